namespace Rpm.Evaluation;

/// <summary>A method's answer to one query, and what explains it.</summary>
public sealed class MethodAnswer
{
    /// <summary>Initializes a new instance of the <see cref="MethodAnswer"/> class.</summary>
    /// <param name="answer">The answer scored against the gold (canonical when valid; the raw model text when not).</param>
    /// <param name="isValid">Whether the answer is valid for the task (a label, a rating on the scale, an option, non-empty text).</param>
    public MethodAnswer(string answer, bool isValid)
    {
        ArgumentNullException.ThrowIfNull(answer);
        Answer = answer;
        IsValid = isValid;
    }

    /// <summary>Gets the answer.</summary>
    public string Answer { get; }

    /// <summary>Gets a value indicating whether the answer is valid for the task.</summary>
    public bool IsValid { get; }

    /// <summary>Gets the rationale or reasoning given with the answer, if any.</summary>
    public string? Rationale { get; init; }

    /// <summary>Gets the history items used, most relevant first.</summary>
    internal IReadOnlyList<ExplainedExample> Examples { get; init; } = [];

    /// <summary>Gets the query's features (RPM), as <c>name: context [factor]</c>.</summary>
    internal IReadOnlyList<string> QueryFeatures { get; init; } = [];

    /// <summary>
    /// Gets whether RPM's rationale passed the grounding check (<see cref="RpmResponse.IsGrounded"/>), or
    /// <see langword="null"/> when no check ran (another method, a model-free answer).
    /// </summary>
    internal bool? IsGrounded { get; init; }

    /// <summary>Gets why the answer is not valid, when it is not.</summary>
    public string? Error { get; init; }
}
