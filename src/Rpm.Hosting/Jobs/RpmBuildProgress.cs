namespace Rpm;

/// <summary>
/// How far a running build job has come, as the process running it sees it: the stage in progress, its items done and
/// in all, and an estimate of the whole build's share done.
/// </summary>
/// <remarks>
/// Known to the process that runs the build (<see cref="RpmBuildQueue.GetJobAsync"/> there adds it to a running job);
/// not stored in the job store, so another process polling a shared SQLite file sees the job running without it.
/// </remarks>
public sealed class RpmBuildProgress
{
    /// <summary>Initializes a new instance of the <see cref="RpmBuildProgress"/> class.</summary>
    /// <param name="stage">The stage in progress (see <see cref="Stage"/>).</param>
    /// <param name="completed">The stage's items done (answered now or read from a checkpoint).</param>
    /// <param name="total">The stage's items in all.</param>
    /// <param name="fraction">The estimated share of the build done, in [0, 1].</param>
    /// <exception cref="ArgumentException"><paramref name="stage"/> is blank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, <paramref name="completed"/> exceeds <paramref name="total"/>, or <paramref name="fraction"/> is outside [0, 1].</exception>
    public RpmBuildProgress(string stage, int completed, int total, double fraction)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stage);
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        ArgumentOutOfRangeException.ThrowIfNegative(completed);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(completed, total);
        if (double.IsNaN(fraction) || fraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The share done is in [0, 1].");
        }

        Stage = stage;
        Completed = completed;
        Total = total;
        Fraction = fraction;
    }

    /// <summary>
    /// Gets the stage in progress, in the method's order: <c>feature_extraction</c> (stage 1, one item per history
    /// item), <c>influence_judgment</c> (generation tasks only), <c>factor_construction</c> (stage 2, one item),
    /// <c>statistics</c> (stage 3, local), <c>reasoning_path</c> (stage 4, one item per history item) and
    /// <c>embeddings</c> (the retrieval keys, local).
    /// </summary>
    public string Stage { get; }

    /// <summary>Gets the stage's items done: answered in this run or read from a checkpoint of an earlier one.</summary>
    public int Completed { get; }

    /// <summary>Gets the stage's items in all.</summary>
    public int Total { get; }

    /// <summary>
    /// Gets the estimated share of the build's model work done, in [0, 1]: the items done over the items a build of
    /// the job's history asks for (2N + 1 for N items, 3N + 1 for a generation task). Local stages count as none.
    /// </summary>
    public double Fraction { get; }
}
