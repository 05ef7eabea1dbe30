namespace Rpm.Evaluation;

/// <summary>A personalized prompt Fermi has scored: its score on the scoring items, and the model's answer and score for each item.</summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="Iteration">The iteration that wrote it (1-based).</param>
/// <param name="Answers">The model's answer to each scoring item under this prompt, in item order (empty when it gave no valid answer).</param>
/// <param name="ItemScores">Each item's score, from 0 to 1, in item order.</param>
internal sealed record FermiCandidate(string Prompt, int Iteration, IReadOnlyList<string> Answers, IReadOnlyList<double> ItemScores)
{
    /// <summary>Gets the mean item score.</summary>
    public double Score => ItemScores.Count == 0 ? 0 : ItemScores.Average();

    /// <summary>The items whose answer was mis-aligned (score below 1), the worst first (ties in item order), at most <paramref name="count"/>.</summary>
    public IEnumerable<int> Misaligned(int count) =>
        Enumerable.Range(0, ItemScores.Count).Where(i => ItemScores[i] < 1).OrderBy(i => ItemScores[i]).ThenBy(i => i).Take(count);

    /// <summary>The mean score over some items (Retrieval-of-Prompt's measure).</summary>
    public double ScoreOn(IReadOnlyList<int> items) => items.Count == 0 ? Score : items.Average(i => ItemScores[i]);
}
