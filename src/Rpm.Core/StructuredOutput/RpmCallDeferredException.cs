namespace Rpm;

/// <summary>
/// Thrown by a chat client to say that the answer to a call is not available yet (for example, it was queued for an
/// offline batch and will be answered later). It is not a failure: the pipeline never counts, checkpoints or repairs a
/// deferred call; a build asks every other call of the stage too, so that one pass collects all of them, and then throws
/// one <see cref="RpmCallDeferredException"/> for the stage. Running the build again once the answers are available
/// resumes from the build's checkpoints.
/// </summary>
public class RpmCallDeferredException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="RpmCallDeferredException"/> class.</summary>
    /// <param name="message">The message.</param>
    public RpmCallDeferredException(string message)
        : base(message)
    {
        DeferredCalls = 1;
    }

    /// <summary>Initializes a new instance of the <see cref="RpmCallDeferredException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public RpmCallDeferredException(string message, Exception innerException)
        : base(message, innerException)
    {
        DeferredCalls = 1;
    }

    /// <summary>Initializes a new instance of the <see cref="RpmCallDeferredException"/> class for a stage of a user's build.</summary>
    /// <param name="message">The message.</param>
    /// <param name="deferredCalls">How many of the stage's calls are waiting for an answer.</param>
    public RpmCallDeferredException(string message, int deferredCalls)
        : base(message)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(deferredCalls);
        DeferredCalls = deferredCalls;
    }

    /// <summary>Gets how many calls are waiting for an answer (1 for one call; the stage's count when a build stage throws it).</summary>
    public int DeferredCalls { get; }
}
