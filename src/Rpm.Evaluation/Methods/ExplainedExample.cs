namespace Rpm.Evaluation;

/// <summary>A history item a method used for a query, with its similarity and, for RPM, the reasoning path.</summary>
/// <param name="ItemId">The history item's id.</param>
/// <param name="Input">The history input.</param>
/// <param name="Answer">The user's answer to it.</param>
/// <param name="Similarity">The retrieval score (cosine similarity, or BM25 score).</param>
/// <param name="Reasoning">RPM's reasoning path for the item, if any.</param>
/// <param name="Features">The item's features as <c>name: context [factor]</c>, if any.</param>
internal sealed record ExplainedExample(string ItemId, string Input, string Answer, double Similarity, string? Reasoning = null, IReadOnlyList<string>? Features = null);
