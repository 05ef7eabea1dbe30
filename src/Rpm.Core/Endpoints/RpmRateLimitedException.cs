namespace Rpm;

/// <summary>
/// Thrown when an endpoint keeps answering 429 (rate limited): its <c>Retry-After</c> asked for a longer wait than the
/// configured cap, the retries ran out, or the account's quota is exhausted (OpenAI's <c>insufficient_quota</c>).
/// </summary>
public sealed class RpmRateLimitedException : RpmEndpointException
{
    /// <summary>Initializes a new instance of the <see cref="RpmRateLimitedException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="serverMessage">The server's own text.</param>
    /// <param name="retryAfter">The wait the server asked for, if any.</param>
    /// <param name="retryAfterCap">The longest wait the transport honours, if the wait exceeded it.</param>
    /// <param name="innerException">The transport's exception.</param>
    public RpmRateLimitedException(string message, string serverMessage, TimeSpan? retryAfter, TimeSpan? retryAfterCap, Exception? innerException)
        : base(message, 429, serverMessage, retryAfter, innerException)
    {
        RetryAfterCap = retryAfterCap;
    }

    /// <summary>Gets the longest wait the transport honours, when the server asked for more; otherwise <see langword="null"/>.</summary>
    public TimeSpan? RetryAfterCap { get; }
}
