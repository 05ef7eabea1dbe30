namespace Rpm;

/// <summary>
/// Thrown (or reported per user in <see cref="BatchBuildResult.Failures"/>) when the Batch API refused a call, or when a
/// request a user's build needs went unanswered in more batches than <see cref="OpenAIBatchOptions.MaxSubmissions"/> allows.
/// The message names the batch, the user and the request.
/// </summary>
public class OpenAIBatchException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="OpenAIBatchException"/> class.</summary>
    public OpenAIBatchException()
        : this("A call of the OpenAI Batch API failed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OpenAIBatchException"/> class.</summary>
    /// <param name="message">The message.</param>
    public OpenAIBatchException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OpenAIBatchException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public OpenAIBatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the HTTP status the Batch or Files API answered, when a call was refused.</summary>
    public int? StatusCode { get; init; }

    /// <summary>Gets the user whose build could not finish, when the error is about one user.</summary>
    public string? UserId { get; init; }

    /// <summary>Gets the request (its <c>custom_id</c>) that went unanswered, when the error is about one.</summary>
    public string? RequestId { get; init; }

    /// <summary>Gets the last batch the request was in, when known.</summary>
    public string? BatchId { get; init; }
}
