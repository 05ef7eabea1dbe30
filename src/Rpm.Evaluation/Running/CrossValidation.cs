namespace Rpm.Evaluation;

/// <summary>
/// How a method's parameters were chosen without looking at the answers they are scored on: k-fold cross-validation
/// over people (seeded folds). For each fold, the parameters with the best score on the other folds' queries are chosen
/// from a small grid, then this fold's users are answered with them, so no user's reported answer picks its own
/// parameters.
/// </summary>
internal sealed class CrossValidation
{
    /// <summary>Gets the metric the parameters were chosen by (e.g. <c>mae</c>, lower is better, or <c>accuracy</c>).</summary>
    public required string Metric { get; init; }

    /// <summary>Gets the grid the parameters were chosen from, in words (e.g. <c>K in {1, 3, 5}; shrinkage in {0, 1}</c>).</summary>
    public required string Grid { get; init; }

    /// <summary>Gets the seed of the fold assignment (people are shuffled with it, then dealt round-robin).</summary>
    public required int Seed { get; init; }

    /// <summary>Gets the folds in order; empty when there were too few people to cross-validate (see <see cref="Note"/>).</summary>
    public required IReadOnlyList<CrossValidationFold> Folds { get; init; }

    /// <summary>Gets what the reader should know, e.g. that the defaults were used because there was only one person.</summary>
    public string? Note { get; init; }
}
