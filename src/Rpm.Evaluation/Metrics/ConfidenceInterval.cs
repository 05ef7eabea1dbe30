namespace Rpm.Evaluation;

/// <summary>
/// A metric's value on a set of queries with a percentile bootstrap confidence interval over those queries
/// (<see cref="MetricBootstrap"/>).
/// </summary>
/// <param name="Value">The metric on every query, exactly as <see cref="LampMetrics.Score(RpmTask, IReadOnlyList{string}, IReadOnlyList{string}, IReadOnlyList{IReadOnlyList{string}?}?)"/> computes it.</param>
/// <param name="Lower">The lower bound of the interval, in the metric's unit.</param>
/// <param name="Upper">The upper bound of the interval, in the metric's unit.</param>
/// <param name="Count">The number of queries (n) the metric and its resamples are computed on.</param>
/// <param name="Level">The confidence level, in (0, 1), e.g. 0.95.</param>
public sealed record ConfidenceInterval(double Value, double Lower, double Upper, int Count, double Level)
{
    /// <summary>Determines whether two intervals share at least one value.</summary>
    /// <param name="other">The other interval.</param>
    /// <returns><see langword="true"/> when they overlap; the difference between the two values is then not clear at this level.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="other"/> is <see langword="null"/>.</exception>
    public bool Overlaps(ConfidenceInterval other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Lower <= other.Upper && other.Lower <= Upper;
    }
}
