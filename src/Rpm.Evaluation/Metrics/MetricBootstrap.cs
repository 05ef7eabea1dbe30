namespace Rpm.Evaluation;

/// <summary>
/// How sure a score is: a seeded percentile bootstrap over queries. Each resample draws n queries with replacement from
/// the n scored, recomputes the metric exactly as <see cref="LampMetrics"/> does (macro-F1 from the resample's
/// confusion counts, RMSE from its squared errors), and the interval is the (1 − level) / 2 and (1 + level) / 2
/// percentiles of the resampled values (linear interpolation, as NumPy's default). The same seed gives the same
/// interval on every machine and run.
/// </summary>
/// <remarks>
/// Source: Efron and Tibshirani, <i>An Introduction to the Bootstrap</i> (1993), ch. 13 (percentile intervals); the
/// paired form is Koehn, "Statistical Significance Tests for Machine Translation Evaluation" (EMNLP 2004). Queries of one
/// user are resampled independently, so with few users and many queries each the interval is optimistic.
/// </remarks>
public static class MetricBootstrap
{
    /// <summary>The default number of resamples.</summary>
    public const int DefaultResamples = 1000;

    /// <summary>The default seed (RPM's arXiv number, 2505.21082).</summary>
    public const int DefaultSeed = 250521082;

    /// <summary>The default confidence level.</summary>
    public const double DefaultLevel = 0.95;

    /// <summary>Computes every metric of the task with its confidence interval.</summary>
    /// <param name="task">The task.</param>
    /// <param name="golds">The golds.</param>
    /// <param name="predictions">The predictions, in the same order.</param>
    /// <param name="options">For a multiple-choice task, each question's options; <see langword="null"/> for the task's defaults.</param>
    /// <param name="resamples">The number of resamples, at least 100.</param>
    /// <param name="seed">The seed of the resampling.</param>
    /// <param name="level">The confidence level, in (0, 1).</param>
    /// <returns>Per metric name (<see cref="LampMetrics.For"/>), its value on every query and its interval; all zero when there are no queries.</returns>
    /// <exception cref="ArgumentException">The lists differ in length, a gold is not valid for the task, or a setting is out of range.</exception>
    public static IReadOnlyDictionary<string, ConfidenceInterval> ComputeIntervals(
        RpmTask task, IReadOnlyList<string> golds, IReadOnlyList<string> predictions, IReadOnlyList<IReadOnlyList<string>?>? options = null,
        int resamples = DefaultResamples, int seed = DefaultSeed, double level = DefaultLevel)
    {
        Check(resamples, level);
        MetricSet point = LampMetrics.Score(task, golds, predictions, options);
        var scores = QueryScores.Create(task, golds, predictions);
        int n = golds.Count;
        var result = new Dictionary<string, ConfidenceInterval>(StringComparer.Ordinal);
        foreach (string metric in LampMetrics.For(task.Kind))
        {
            double value = point.Values[metric];
            if (n == 0)
            {
                result[metric] = new ConfidenceInterval(value, value, value, 0, level);
                continue;
            }

            var (lower, upper) = Resample(n, resamples, seed, level, sample => scores.Compute(metric, sample));
            result[metric] = new ConfidenceInterval(value, Math.Min(lower, value), Math.Max(upper, value), n, level);
        }

        return result;
    }

    /// <summary>Compares two methods' predictions on the same queries, metric by metric, with a paired bootstrap.</summary>
    /// <param name="task">The task.</param>
    /// <param name="golds">The golds.</param>
    /// <param name="method">The name and predictions of the method compared.</param>
    /// <param name="baseline">The name and predictions of the method compared against, in the same order.</param>
    /// <param name="options">For a multiple-choice task, each question's options; <see langword="null"/> for the task's defaults.</param>
    /// <param name="resamples">The number of resamples, at least 100.</param>
    /// <param name="seed">The seed of the resampling.</param>
    /// <param name="level">The confidence level, in (0, 1).</param>
    /// <returns>One difference per metric of the task (<see cref="LampMetrics.For"/>), <c>method − baseline</c>.</returns>
    /// <exception cref="ArgumentException">The lists differ in length, a gold is not valid for the task, or a setting is out of range.</exception>
    public static IReadOnlyList<PairedDifference> CompareMethods(
        RpmTask task, IReadOnlyList<string> golds, (string Name, IReadOnlyList<string> Predictions) method, (string Name, IReadOnlyList<string> Predictions) baseline,
        IReadOnlyList<IReadOnlyList<string>?>? options = null, int resamples = DefaultResamples, int seed = DefaultSeed, double level = DefaultLevel)
    {
        Check(resamples, level);
        ArgumentException.ThrowIfNullOrWhiteSpace(method.Name, nameof(method));
        ArgumentException.ThrowIfNullOrWhiteSpace(baseline.Name, nameof(baseline));
        MetricSet a = LampMetrics.Score(task, golds, method.Predictions, options);
        MetricSet b = LampMetrics.Score(task, golds, baseline.Predictions, options);
        var scoresA = QueryScores.Create(task, golds, method.Predictions);
        var scoresB = QueryScores.Create(task, golds, baseline.Predictions);
        int n = golds.Count;
        var result = new List<PairedDifference>();
        foreach (string metric in LampMetrics.For(task.Kind))
        {
            double difference = a.Values[metric] - b.Values[metric];
            if (n == 0)
            {
                result.Add(new PairedDifference(metric, method.Name, baseline.Name, 0, difference, difference, difference, level));
                continue;
            }

            var (lower, upper) = Resample(n, resamples, seed, level, sample => scoresA.Compute(metric, sample) - scoresB.Compute(metric, sample));
            result.Add(new PairedDifference(metric, method.Name, baseline.Name, n, difference, Math.Min(lower, difference), Math.Max(upper, difference), level));
        }

        return result;
    }

    private static void Check(int resamples, double level)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 100);
        if (!(level > 0 && level < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "The confidence level must be strictly between 0 and 1, e.g. 0.95.");
        }
    }

    // Draws `resamples` samples of n query indices with replacement (the same draws for the same seed), computes the
    // statistic on each, and returns NumPy's default ("linear") percentiles of the results at (1 ± level) / 2.
    private static (double Lower, double Upper) Resample(int n, int resamples, int seed, double level, Func<int[], double> statistic)
    {
        var random = new Random(seed);
        var sample = new int[n];
        var values = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < n; i++)
            {
                sample[i] = random.Next(n);
            }

            values[r] = statistic(sample);
        }

        Array.Sort(values);
        double alpha = (1 - level) / 2;
        return (Quantile(values, alpha), Quantile(values, 1 - alpha));
    }

    private static double Quantile(double[] sorted, double p)
    {
        double h = (sorted.Length - 1) * p;
        int low = (int)Math.Floor(h);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + ((h - low) * (sorted[high] - sorted[low]));
    }

    /// <summary>Each query's contribution to each metric, so that a resample is scored without re-reading any text.</summary>
    private sealed class QueryScores
    {
        private readonly RpmTaskKind _kind;
        private readonly int _labelCount;
        private readonly int[] _gold;
        private readonly int[] _predicted;
        private readonly double[] _first;
        private readonly double[] _second;

        private QueryScores(RpmTaskKind kind, int labelCount, int[] gold, int[] predicted, double[] first, double[] second)
        {
            _kind = kind;
            _labelCount = labelCount;
            _gold = gold;
            _predicted = predicted;
            _first = first;
            _second = second;
        }

        public static QueryScores Create(RpmTask task, IReadOnlyList<string> golds, IReadOnlyList<string> predictions)
        {
            int n = golds.Count;
            switch (task.Kind)
            {
                case RpmTaskKind.Classification:
                    int[] gold = LampMetrics.Map(golds, task.Labels, nameof(golds));
                    int[] predicted = [.. predictions.Select(p => LampMetrics.IndexOf(task.Labels, p))];
                    return new QueryScores(task.Kind, task.Labels.Count, gold, predicted, [], []);
                case RpmTaskKind.Rating:
                    var absolute = new double[n];
                    var squared = new double[n];
                    for (int i = 0; i < n; i++)
                    {
                        PythonFloat.TryParse(golds[i], out double g); // checked by LampMetrics.Score first
                        double error = LampMetrics.RatingValue(predictions[i], g, task.Scale!.Minimum, task.Scale.Maximum) - g;
                        absolute[i] = Math.Abs(error);
                        squared[i] = error * error;
                    }

                    return new QueryScores(task.Kind, 0, [], [], absolute, squared);
                case RpmTaskKind.Generation:
                    double[] rouge1 = [.. golds.Select((g, i) => RougeScorer.Rouge1(g.Trim(), (predictions[i] ?? string.Empty).Trim()))];
                    double[] rougeL = [.. golds.Select((g, i) => RougeScorer.RougeL(g.Trim(), (predictions[i] ?? string.Empty).Trim()))];
                    return new QueryScores(task.Kind, 0, [], [], rouge1, rougeL);
                default:
                    double[] correct = [.. golds.Select((g, i) => string.Equals(g.Trim(), (predictions[i] ?? string.Empty).Trim(), StringComparison.Ordinal) ? 1.0 : 0.0)];
                    return new QueryScores(task.Kind, 0, [], [], correct, []);
            }
        }

        public double Compute(string metric, int[] sample) => (_kind, metric) switch
        {
            (RpmTaskKind.Classification, LampMetrics.Accuracy) => Accuracy(sample),
            (RpmTaskKind.Classification, LampMetrics.F1) => MacroF1(sample),
            (RpmTaskKind.Rating, LampMetrics.Mae) => Mean(_first, sample),
            (RpmTaskKind.Rating, LampMetrics.Rmse) => Math.Sqrt(Mean(_second, sample)),
            (RpmTaskKind.Generation, LampMetrics.Rouge1) => Mean(_first, sample),
            (RpmTaskKind.Generation, LampMetrics.RougeL) => Mean(_second, sample),
            (_, LampMetrics.Accuracy) => Mean(_first, sample),
            _ => throw new ArgumentException($"The metric '{metric}' is not reported for {_kind} tasks.", nameof(metric)),
        };

        private static double Mean(double[] values, int[] sample)
        {
            double sum = 0;
            foreach (int i in sample)
            {
                sum += values[i];
            }

            return sum / sample.Length;
        }

        private double Accuracy(int[] sample)
        {
            int correct = 0;
            foreach (int i in sample)
            {
                correct += _gold[i] == _predicted[i] ? 1 : 0;
            }

            return (double)correct / sample.Length;
        }

        // As LampMetrics.ComputeMacroF1: an answer outside the label set is a false negative for its gold label only.
        private double MacroF1(int[] sample)
        {
            var tp = new int[_labelCount];
            var fp = new int[_labelCount];
            var fn = new int[_labelCount];
            foreach (int i in sample)
            {
                int g = _gold[i], p = _predicted[i];
                if (g == p)
                {
                    tp[g]++;
                    continue;
                }

                fn[g]++;
                if (p >= 0)
                {
                    fp[p]++;
                }
            }

            double sum = 0;
            for (int label = 0; label < _labelCount; label++)
            {
                int denominator = (2 * tp[label]) + fp[label] + fn[label];
                sum += denominator == 0 ? 0 : 2.0 * tp[label] / denominator;
            }

            return sum / _labelCount;
        }
    }
}
