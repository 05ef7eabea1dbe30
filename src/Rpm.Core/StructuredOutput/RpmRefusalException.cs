namespace Rpm;

/// <summary>
/// Thrown when the chat model refused to answer (OpenAI's structured-output <c>refusal</c> field, surfaced by
/// Microsoft.Extensions.AI as an <c>ErrorContent</c> with code <c>Refusal</c>). A refusal is not a format error: it is
/// not retried, and nothing is cached.
/// </summary>
public sealed class RpmRefusalException : RpmModelOutputException
{
    /// <summary>Initializes a new instance of the <see cref="RpmRefusalException"/> class.</summary>
    /// <param name="stage">The stage.</param>
    /// <param name="itemId">The item being processed.</param>
    /// <param name="refusalText">The model's refusal, verbatim.</param>
    /// <param name="rawText">The answer text that came with it, if any.</param>
    public RpmRefusalException(RpmStage stage, string itemId, string refusalText, string rawText)
        : base(stage, itemId, rawText, refusalText, 1, ModelOutputFailure.Refused)
    {
        RefusalText = refusalText;
    }

    /// <summary>Gets the model's refusal, verbatim.</summary>
    public string RefusalText { get; }
}
