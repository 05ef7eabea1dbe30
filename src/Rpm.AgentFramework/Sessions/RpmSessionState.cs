namespace Rpm;

/// <summary>
/// What <see cref="RpmContextProvider"/> keeps in an agent session's state bag (serialized with the session): the run in
/// progress, and the latest finished run whose choice has not been recorded yet.
/// </summary>
internal sealed class RpmSessionState
{
    /// <summary>Gets or sets the user and query of the run being personalized, until it finishes.</summary>
    public RpmSessionExchange? Running { get; set; }

    /// <summary>Gets or sets the user and query of the latest finished personalized run, until a choice is recorded for it.</summary>
    public RpmSessionExchange? Finished { get; set; }

    /// <summary>Gets or sets the exchange a choice was last recorded for by the after-run hook, so that the hook records one item per query even when it runs after every service call.</summary>
    public RpmSessionExchange? LastRecorded { get; set; }
}
