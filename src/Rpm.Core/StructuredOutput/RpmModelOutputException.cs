namespace Rpm;

/// <summary>
/// Thrown when the chat model's answer for a stage could not be used: it was not valid JSON for the schema or failed
/// validation on every attempt (the first answer and each repair turn that told the model what was wrong), or it was
/// cut at the token limit, filtered, empty, or refused (<see cref="RpmRefusalException"/>). <see cref="Failure"/> says which.
/// </summary>
/// <remarks>An answer behind this exception is never written to an answer cache or a build checkpoint.</remarks>
public class RpmModelOutputException : RpmStageException
{
    /// <summary>Initializes a new instance of the <see cref="RpmModelOutputException"/> class.</summary>
    /// <param name="stage">The stage.</param>
    /// <param name="itemId">The item being processed.</param>
    /// <param name="rawText">The model's last answer, verbatim.</param>
    /// <param name="error">What was wrong with it.</param>
    /// <param name="attempts">How many answers were requested.</param>
    /// <param name="failure">Why the answer could not be used.</param>
    public RpmModelOutputException(RpmStage stage, string itemId, string rawText, string error, int attempts, ModelOutputFailure failure = ModelOutputFailure.InvalidOutput)
        : base(stage, itemId, Describe(stage, itemId, error, attempts, failure))
    {
        RawText = rawText;
        Error = error;
        Attempts = attempts;
        Failure = failure;
    }

    /// <summary>Gets the model's last answer, verbatim.</summary>
    public string RawText { get; }

    /// <summary>Gets what was wrong with the last answer.</summary>
    public string Error { get; }

    /// <summary>Gets how many answers were requested.</summary>
    public int Attempts { get; }

    /// <summary>Gets why the answer could not be used.</summary>
    public ModelOutputFailure Failure { get; }

    private static string Describe(RpmStage stage, string itemId, string error, int attempts, ModelOutputFailure failure) => failure switch
    {
        ModelOutputFailure.Refused => $"The model refused stage {stage} of item '{itemId}': {error}",
        ModelOutputFailure.ContentFiltered => $"The provider's content filter stopped the answer for stage {stage} of item '{itemId}': {error}",
        ModelOutputFailure.Truncated => $"The model's answer for stage {stage} of item '{itemId}' was cut off after {attempts} attempt(s): {error}",
        ModelOutputFailure.Empty => $"The model's answer for stage {stage} of item '{itemId}' was empty after {attempts} attempt(s): {error}",
        _ => $"The model's answer for stage {stage} of item '{itemId}' was not valid after {attempts} attempt(s): {error}",
    };
}
