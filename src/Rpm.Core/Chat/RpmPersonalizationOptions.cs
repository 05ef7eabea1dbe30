namespace Rpm;

/// <summary>How <see cref="RpmPipeline.PersonalizeTurnAsync"/> personalizes one live chat turn or agent run.</summary>
public sealed class RpmPersonalizationOptions
{
    /// <summary>The default <see cref="Timeout"/>: 5 seconds.</summary>
    internal static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how the message is matched to the user's past reasoning. Default
    /// <see cref="RpmPersonalizationMode.QueryFeatures"/>, the paper's (one extra chat-model call per turn).
    /// </summary>
    public RpmPersonalizationMode Mode { get; set; } = RpmPersonalizationMode.QueryFeatures;

    /// <summary>
    /// Gets or sets the longest time personalizing may take (the store reads, the feature call, the embedding and the
    /// retrieval together) before it is abandoned and the turn goes to the chat model unpersonalized.
    /// Default 5 s (a hosted model answers the feature call in one to three seconds; raise it
    /// for a slow local model); <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for none.
    /// </summary>
    public TimeSpan Timeout { get; set; } = DefaultTimeout;

    /// <summary>
    /// Gets or sets a value indicating whether a failure while personalizing (the store, the embedding generator, the
    /// feature call's endpoint, the <see cref="Timeout"/>) throws out of the turn instead of leaving it unpersonalized.
    /// Default <see langword="false"/>: RPM is an optional improvement of a turn and never the reason it is lost; the
    /// failure is reported (<see cref="RpmPersonalization.FailureReason"/>, log event 3002, the
    /// <see cref="RpmTelemetry.PersonalizeDurationMetric"/> histogram's <c>rpm.outcome</c> <c>failed</c>, the
    /// <c>rpm.personalize</c> span's error status). A timeout then throws <see cref="TimeoutException"/>.
    /// </summary>
    public bool ThrowOnFailure { get; set; }

    /// <summary>Checks the options.</summary>
    /// <param name="parameterName">The name the error gives the options.</param>
    /// <exception cref="ArgumentOutOfRangeException">The mode is not defined, or the timeout is neither positive nor infinite.</exception>
    internal void Validate(string parameterName)
    {
        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentOutOfRangeException(parameterName, $"{nameof(Mode)} {(int)Mode} is not an {nameof(RpmPersonalizationMode)}.");
        }

        if (Timeout <= TimeSpan.Zero && Timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(parameterName, $"{nameof(Timeout)} must be positive or Timeout.InfiniteTimeSpan (was {Timeout}).");
        }
    }
}
