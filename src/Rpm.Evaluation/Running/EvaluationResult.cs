namespace Rpm.Evaluation;

/// <summary>Everything a run produced: per method predictions, metrics and costs; the skipped methods; what this run paid.</summary>
public sealed class EvaluationResult
{
    // Made by EvaluationRunner only; a caller reads it.
    internal EvaluationResult()
    {
    }

    /// <summary>Gets the data set's name.</summary>
    public string Dataset { get; internal init; } = string.Empty;

    /// <summary>Gets the task.</summary>
    public RpmTask Task { get; internal init; } = null!;

    /// <summary>Gets the model's name (or a note that none was used).</summary>
    public string ModelId { get; internal init; } = string.Empty;

    /// <summary>Gets the number of units evaluated (history + queries).</summary>
    public int Users { get; internal init; }

    /// <summary>Gets the number of distinct people.</summary>
    public int People { get; internal init; }

    /// <summary>Gets the number of queries.</summary>
    public int Queries { get; internal init; }

    /// <summary>Gets the golds of the evaluated queries, in LaMP's outputs format.</summary>
    public LampOutputs Golds { get; internal init; } = null!;

    /// <summary>Gets the methods that ran, in the order asked.</summary>
    public IReadOnlyList<MethodResult> Methods { get; internal init; } = [];

    /// <summary>Gets the methods that did not run, and why.</summary>
    public IReadOnlyList<SkippedMethod> Skipped { get; internal init; } = [];

    /// <summary>Gets the calls and tokens this run actually sent to the endpoint (cache misses only).</summary>
    public UsageTotals Spent { get; internal init; } = UsageTotals.Zero;

    /// <summary>Gets the prices used for costs, or <see langword="null"/> when they are not known (every cost is then unknown).</summary>
    public TokenPrices? Prices { get; internal init; }

    /// <summary>Gets the run's wall-clock time.</summary>
    public TimeSpan Elapsed { get; internal init; }

    /// <summary>
    /// Gets, per metric, RPM against the best other method on that metric, on the same queries (paired bootstrap,
    /// <see cref="MetricBootstrap.CompareMethods"/>); empty when RPM did not run, nothing else ran, or bootstrapping is off.
    /// </summary>
    public IReadOnlyList<PairedDifference> Comparisons { get; internal init; } = [];

    /// <summary>Gets the K used by retrieving methods.</summary>
    public int RetrievalCount { get; internal init; }

    /// <summary>Gets how many history items shared one call of RPM's per-item build stages (<see cref="EvaluationRunnerOptions.BatchSize"/>); 1 is the paper's setting.</summary>
    public int BatchSize { get; internal init; } = 1;
}
