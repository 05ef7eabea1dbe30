namespace Rpm.Evaluation;

/// <summary>One query as a method answered it, with its rationale and examples, for the report.</summary>
/// <param name="UserId">The user.</param>
/// <param name="QueryId">The query.</param>
/// <param name="Input">The query's input.</param>
/// <param name="Gold">The user's real answer.</param>
/// <param name="Answer">The method's answer.</param>
/// <param name="IsValid">Whether the answer was valid for the task.</param>
/// <param name="Rationale">The rationale, if any.</param>
/// <param name="QueryFeatures">The query's features (RPM).</param>
/// <param name="Examples">The history items used.</param>
internal sealed record QueryExplanation(
    string UserId, string QueryId, string Input, string Gold, string Answer, bool IsValid, string? Rationale,
    IReadOnlyList<string> QueryFeatures, IReadOnlyList<ExplainedExample> Examples);
