namespace Rpm.Evaluation;

/// <summary>The metrics of one set of predictions against golds, with LaMP's names: accuracy, f1, mae, rmse, rouge-1, rouge-L.</summary>
public sealed class MetricSet
{
    /// <summary>Gets or sets the task name.</summary>
    public required string Task { get; init; }

    /// <summary>Gets or sets the kind of task.</summary>
    public required RpmTaskKind Kind { get; init; }

    /// <summary>Gets or sets the number of scored answers.</summary>
    public required int Count { get; init; }

    /// <summary>Gets or sets the number of answers that were not valid for the task (outside the label set or options, not a number, or empty); they are scored as LaMP scores them.</summary>
    public required int InvalidAnswers { get; init; }

    /// <summary>Gets or sets the metric values by name.</summary>
    public required IReadOnlyDictionary<string, double> Values { get; init; }

    /// <summary>Determines whether lower values of a metric are better (mae, rmse).</summary>
    /// <param name="metric">The metric name.</param>
    /// <returns><see langword="true"/> for error metrics.</returns>
    public static bool LowerIsBetter(string metric) => metric is LampMetrics.Mae or LampMetrics.Rmse;
}
