namespace Rpm.Evaluation;

/// <summary>The metrics of one set of predictions against golds, with LaMP's names: accuracy, f1, mae, rmse, rouge-1, rouge-L.</summary>
public sealed class MetricSet
{
    // Made by LampMetrics only; a caller reads it.
    internal MetricSet()
    {
    }

    /// <summary>Gets the task name.</summary>
    public string Task { get; internal init; } = string.Empty;

    /// <summary>Gets the kind of task.</summary>
    public RpmTaskKind Kind { get; internal init; }

    /// <summary>Gets the number of scored answers.</summary>
    public int Count { get; internal init; }

    /// <summary>Gets the number of answers that were not valid for the task (outside the label set or options, not a number, or empty); they are scored as LaMP scores them.</summary>
    public int InvalidAnswers { get; internal init; }

    /// <summary>Gets the metric values by name.</summary>
    public IReadOnlyDictionary<string, double> Values { get; internal init; } = new Dictionary<string, double>();

    /// <summary>Determines whether lower values of a metric are better (mae, rmse).</summary>
    /// <param name="metric">The metric name.</param>
    /// <returns><see langword="true"/> for error metrics.</returns>
    public static bool LowerIsBetter(string metric) => metric is LampMetrics.Mae or LampMetrics.Rmse;
}
