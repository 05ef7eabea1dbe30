namespace Rpm.Evaluation;

/// <summary>One fold of a <see cref="CrossValidation"/>: the parameters chosen on the other folds and how they did on this one.</summary>
internal sealed class CrossValidationFold
{
    /// <summary>Gets the fold's number, from 1.</summary>
    public required int Index { get; init; }

    /// <summary>Gets the number of users (evaluation units) in the fold.</summary>
    public required int Users { get; init; }

    /// <summary>Gets the number of queries in the fold.</summary>
    public required int Queries { get; init; }

    /// <summary>Gets the chosen parameters, in words (e.g. <c>K = 10, shrinkage = 2</c>).</summary>
    public required string Parameters { get; init; }

    /// <summary>Gets the chosen parameters' score on the other folds' queries (what chose them), in the unit of <see cref="CrossValidation.Metric"/>.</summary>
    public required double SelectionScore { get; init; }

    /// <summary>Gets the chosen parameters' score on this fold's queries.</summary>
    public required double Score { get; init; }

    /// <summary>Gets the reference predictor's score on this fold's queries (the user's mean rating or most frequent answer, <c>user-prior</c>).</summary>
    public required double ReferenceScore { get; init; }
}
