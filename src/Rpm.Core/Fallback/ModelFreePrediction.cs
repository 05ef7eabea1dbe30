namespace Rpm;

/// <summary>An answer predicted without a chat model, with the scores and neighbors that explain it.</summary>
internal sealed class ModelFreePrediction
{
    /// <summary>Initializes a new instance of the <see cref="ModelFreePrediction"/> class.</summary>
    /// <param name="answer">The answer, in the task's canonical form.</param>
    /// <param name="scores">The score of every candidate answer (labels or options: shares summing to 1; ratings: the answer's value only).</param>
    /// <param name="neighbors">The history items that voted, most similar first.</param>
    /// <param name="explanation">How the answer was reached, in one or two sentences.</param>
    public ModelFreePrediction(string answer, IReadOnlyDictionary<string, double> scores, IReadOnlyList<HistoryNeighbor> neighbors, string explanation)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(explanation);
        Answer = answer;
        Scores = scores;
        Neighbors = neighbors;
        Explanation = explanation;
    }

    /// <summary>Gets the answer, in the task's canonical form (a label, a rating on the scale's grid, or an option).</summary>
    public string Answer { get; }

    /// <summary>Gets the score of every candidate answer.</summary>
    public IReadOnlyDictionary<string, double> Scores { get; }

    /// <summary>Gets the history items that voted, most similar first.</summary>
    public IReadOnlyList<HistoryNeighbor> Neighbors { get; }

    /// <summary>Gets how the answer was reached.</summary>
    public string Explanation { get; }
}
