namespace Rpm;

/// <summary>
/// Thrown when the chat model's answer for a stage was not valid JSON, broke the schema or failed validation,
/// on every attempt (the first answer and each retry with the error told to the model).
/// </summary>
public sealed class RpmModelOutputException : RpmStageException
{
    /// <summary>Initializes a new instance of the <see cref="RpmModelOutputException"/> class.</summary>
    public RpmModelOutputException()
        : this("The model's answer was not valid.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RpmModelOutputException"/> class.</summary>
    /// <param name="message">The message.</param>
    public RpmModelOutputException(string message)
        : base(message)
    {
        RawText = string.Empty;
        Error = message;
    }

    /// <summary>Initializes a new instance of the <see cref="RpmModelOutputException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public RpmModelOutputException(string message, Exception innerException)
        : base(message, innerException)
    {
        RawText = string.Empty;
        Error = message;
    }

    /// <summary>Initializes a new instance of the <see cref="RpmModelOutputException"/> class.</summary>
    /// <param name="stage">The stage.</param>
    /// <param name="itemId">The item being processed.</param>
    /// <param name="rawText">The model's last answer, verbatim.</param>
    /// <param name="error">What was wrong with it.</param>
    /// <param name="attempts">How many answers were requested.</param>
    public RpmModelOutputException(RpmStage stage, string itemId, string rawText, string error, int attempts)
        : base(stage, itemId, $"The model's answer for stage {stage} of item '{itemId}' was not valid after {attempts} attempt(s): {error}")
    {
        RawText = rawText;
        Error = error;
        Attempts = attempts;
    }

    /// <summary>Gets the model's last answer, verbatim.</summary>
    public string RawText { get; }

    /// <summary>Gets what was wrong with the last answer.</summary>
    public string Error { get; }

    /// <summary>Gets how many answers were requested.</summary>
    public int Attempts { get; }
}
