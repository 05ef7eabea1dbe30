namespace Rpm.Evaluation;

/// <summary>
/// The difference of one metric between two methods on the same queries (<c>Method − Baseline</c>), with a paired
/// percentile bootstrap confidence interval: every resample draws the same queries for both methods
/// (<see cref="MetricBootstrap.CompareMethods"/>).
/// </summary>
/// <param name="Metric">The metric's LaMP name (<see cref="LampMetrics"/>).</param>
/// <param name="Method">The method compared, e.g. <c>rpm</c>.</param>
/// <param name="Baseline">The method compared against, e.g. the best baseline of the run on this metric.</param>
/// <param name="Count">The number of queries (n) both methods answered.</param>
/// <param name="Difference">The method's metric minus the baseline's, in the metric's unit.</param>
/// <param name="Lower">The lower bound of the difference's interval.</param>
/// <param name="Upper">The upper bound of the difference's interval.</param>
/// <param name="Level">The confidence level, in (0, 1), e.g. 0.95.</param>
public sealed record PairedDifference(string Metric, string Method, string Baseline, int Count, double Difference, double Lower, double Upper, double Level)
{
    /// <summary>Gets a value indicating whether the interval excludes zero: the data then show which of the two is better at this level.</summary>
    public bool IsClear => Lower > 0 || Upper < 0;

    /// <summary>Gets a value indicating whether <see cref="Method"/> is clearly better than <see cref="Baseline"/> (lower is better for MAE and RMSE).</summary>
    public bool MethodIsBetter => MetricSet.LowerIsBetter(Metric) ? Upper < 0 : Lower > 0;

    /// <summary>Gets a value indicating whether <see cref="Method"/> is clearly worse than <see cref="Baseline"/>.</summary>
    public bool MethodIsWorse => MetricSet.LowerIsBetter(Metric) ? Lower > 0 : Upper < 0;
}
