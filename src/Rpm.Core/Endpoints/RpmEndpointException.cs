namespace Rpm;

/// <summary>
/// Thrown by a transport adapter (such as Rpm.OpenAI's) when a chat model's endpoint answered with an error or could not
/// be reached, after the transport's own retries. Carries what the server said in its own words, whatever the shape of
/// its error body (OpenAI's JSON, vLLM's, a bare string, an HTML page from a proxy).
/// </summary>
/// <remarks>The pipeline wraps it in an <see cref="RpmStageException"/> that names the stage and the item.</remarks>
public class RpmEndpointException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="RpmEndpointException"/> class.</summary>
    /// <param name="message">The message: the status and the server's own text.</param>
    /// <param name="statusCode">The HTTP status, or <see langword="null"/> when no response arrived (connection failure, timeout).</param>
    /// <param name="serverMessage">The server's own text, shortened, or empty.</param>
    /// <param name="retryAfter">The wait the server asked for (<c>Retry-After</c>), if any.</param>
    /// <param name="innerException">The transport's exception.</param>
    public RpmEndpointException(string message, int? statusCode, string serverMessage, TimeSpan? retryAfter, Exception? innerException)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ServerMessage = serverMessage ?? string.Empty;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets the HTTP status, or <see langword="null"/> when no response arrived.</summary>
    public int? StatusCode { get; }

    /// <summary>Gets the server's own text (its error message, or the text of its error page), shortened; empty when there was none.</summary>
    public string ServerMessage { get; }

    /// <summary>Gets the wait the server asked for before a retry, if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
