namespace Rpm.Evaluation;

/// <summary>Everything a run produced: per method predictions, metrics and costs; the skipped methods; what this run paid.</summary>
public sealed class EvaluationResult
{
    /// <summary>Gets the data set's name.</summary>
    public required string Dataset { get; init; }

    /// <summary>Gets the task.</summary>
    public required RpmTask Task { get; init; }

    /// <summary>Gets the model's name (or a note that none was used).</summary>
    public required string ModelId { get; init; }

    /// <summary>Gets the number of units evaluated (history + queries).</summary>
    public required int Users { get; init; }

    /// <summary>Gets the number of distinct people.</summary>
    public required int People { get; init; }

    /// <summary>Gets the number of queries.</summary>
    public required int Queries { get; init; }

    /// <summary>Gets the golds of the evaluated queries, in LaMP's outputs format.</summary>
    public required LampOutputs Golds { get; init; }

    /// <summary>Gets the methods that ran, in the order asked.</summary>
    public required IReadOnlyList<MethodResult> Methods { get; init; }

    /// <summary>Gets the methods that did not run, and why.</summary>
    public required IReadOnlyList<SkippedMethod> Skipped { get; init; }

    /// <summary>Gets the calls and tokens this run actually sent to the endpoint (cache misses only).</summary>
    public required UsageTotals Spent { get; init; }

    /// <summary>Gets the prices used for costs.</summary>
    public required TokenPrices Prices { get; init; }

    /// <summary>Gets the run's wall-clock time.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>
    /// Gets, per metric, RPM against the best other method on that metric, on the same queries (paired bootstrap,
    /// <see cref="MetricBootstrap.CompareMethods"/>); empty when RPM did not run, nothing else ran, or bootstrapping is off.
    /// </summary>
    public IReadOnlyList<PairedDifference> Comparisons { get; init; } = [];

    /// <summary>Gets the K used by retrieving methods.</summary>
    public required int RetrievalCount { get; init; }

    /// <summary>Gets how many history items shared one call of RPM's per-item build stages (<see cref="EvaluationRunnerOptions.BatchSize"/>); 1 is the paper's setting.</summary>
    public int BatchSize { get; init; } = 1;
}
