namespace Rpm.Evaluation.Tests.Metrics;

public sealed class MetricBootstrapTests
{
    private static readonly RpmTask Classification = LampTaskSpec.Lamp2.Task;
    private static readonly RpmTask Rating = RpmTask.Rating("r", "Rate.", new RatingScale(1, 5, 1));
    private static readonly RpmTask Generation = RpmTask.Generation("g", "Write a title.");

    public static TheoryData<string> Kinds => ["classification", "rating", "generation"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_bound_is_a_percentile_of_LaMPs_own_scorer_run_on_the_resampled_queries(string kind)
    {
        var (task, golds, predictions) = Data(kind, 60);
        const int Resamples = 200, Seed = 7;

        IReadOnlyDictionary<string, ConfidenceInterval> intervals = MetricBootstrap.ComputeIntervals(task, golds, predictions, null, Resamples, Seed);

        // The same resamples, drawn in the same order, scored from scratch by LampMetrics.Score.
        foreach (string metric in LampMetrics.For(task.Kind))
        {
            var random = new Random(Seed);
            var values = new double[Resamples];
            for (int r = 0; r < Resamples; r++)
            {
                int[] sample = [.. Enumerable.Range(0, golds.Length).Select(_ => random.Next(golds.Length))];
                values[r] = LampMetrics.Score(task, [.. sample.Select(i => golds[i])], [.. sample.Select(i => predictions[i])]).Values[metric];
            }

            Array.Sort(values);
            ConfidenceInterval interval = intervals[metric];
            Assert.Equal(LampMetrics.Score(task, golds, predictions).Values[metric], interval.Value, 12);
            Assert.Equal(Percentile(values, 0.025), interval.Lower, 9);
            Assert.Equal(Percentile(values, 0.975), interval.Upper, 9);
            Assert.Equal(60, interval.Count);
            Assert.True(interval.Lower < interval.Value && interval.Value < interval.Upper, $"{metric}: {interval}");
        }
    }

    [Fact]
    public void The_interval_is_as_wide_as_the_binomial_one_and_the_same_on_every_run()
    {
        string[] golds = [.. Enumerable.Repeat("comedy", 400)];
        string[] predictions = [.. Enumerable.Range(0, 400).Select(i => i % 2 == 0 ? "comedy" : "drama")];

        ConfidenceInterval first = MetricBootstrap.ComputeIntervals(Classification, golds, predictions)[LampMetrics.Accuracy];
        ConfidenceInterval again = MetricBootstrap.ComputeIntervals(Classification, golds, predictions)[LampMetrics.Accuracy];
        ConfidenceInterval otherSeed = MetricBootstrap.ComputeIntervals(Classification, golds, predictions, seed: 1)[LampMetrics.Accuracy];

        // p = 0.5, n = 400: the normal approximation gives 0.5 ± 1.96 · sqrt(0.25 / 400) = 0.5 ± 0.049.
        Assert.Equal(first, again);
        Assert.InRange(first.Upper - first.Lower, 0.085, 0.11);
        Assert.InRange(otherSeed.Upper - otherSeed.Lower, 0.085, 0.11);
        Assert.Equal(0.95, first.Level);
    }

    [Fact]
    public void Perfect_answers_have_a_zero_width_interval_and_no_queries_give_zeros()
    {
        string[] golds = ["1", "2", "3", "4", "5"];

        ConfidenceInterval mae = MetricBootstrap.ComputeIntervals(Rating, golds, golds)[LampMetrics.Mae];
        ConfidenceInterval empty = MetricBootstrap.ComputeIntervals(Rating, [], [])[LampMetrics.Rmse];

        Assert.Equal(new ConfidenceInterval(0, 0, 0, 5, 0.95), mae);
        Assert.Equal(new ConfidenceInterval(0, 0, 0, 0, 0.95), empty);
    }

    [Fact]
    public void A_paired_comparison_finds_a_clear_gain_a_clear_loss_for_an_error_metric_and_no_difference_between_equals()
    {
        string[] golds = [.. Enumerable.Range(0, 200).Select(i => (1 + (i % 5)).ToString(System.Globalization.CultureInfo.InvariantCulture))];
        string[] exact = golds;
        string[] offByOne = [.. golds.Select(g => g == "5" ? "4" : (int.Parse(g, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))];
        string[] offByOneOnSome = [.. offByOne.Select((p, i) => i % 4 == 0 ? golds[i] : p)];

        PairedDifference better = MetricBootstrap.CompareMethods(Rating, golds, ("rpm", exact), ("rag", offByOne)).Single(d => d.Metric == LampMetrics.Mae);
        PairedDifference worse = MetricBootstrap.CompareMethods(Rating, golds, ("rpm", offByOne), ("rag", offByOneOnSome)).Single(d => d.Metric == LampMetrics.Mae);
        PairedDifference same = MetricBootstrap.CompareMethods(Rating, golds, ("rpm", offByOne), ("rag", offByOne)).Single(d => d.Metric == LampMetrics.Mae);

        Assert.Equal(-1.0, better.Difference, 12);
        Assert.True(better.MethodIsBetter && better.IsClear && !better.MethodIsWorse);
        Assert.True(worse.Difference > 0 && worse.MethodIsWorse && !worse.MethodIsBetter);
        Assert.Equal(new PairedDifference(LampMetrics.Mae, "rpm", "rag", 200, 0, 0, 0, 0.95), same);
        Assert.False(same.IsClear);
    }

    [Fact]
    public void Settings_out_of_range_are_rejected_with_their_name()
    {
        Assert.Equal("resamples", Assert.Throws<ArgumentOutOfRangeException>(() => MetricBootstrap.ComputeIntervals(Classification, ["comedy"], ["comedy"], resamples: 10)).ParamName);
        Assert.Equal("level", Assert.Throws<ArgumentOutOfRangeException>(() => MetricBootstrap.ComputeIntervals(Classification, ["comedy"], ["comedy"], level: 1)).ParamName);
        Assert.Throws<ArgumentException>(() => MetricBootstrap.ComputeIntervals(Classification, ["comedy"], []));
        Assert.Throws<ArgumentException>(() => MetricBootstrap.CompareMethods(Classification, ["comedy"], ("rpm", ["comedy"]), ("", ["comedy"])));
    }

    private static (RpmTask Task, string[] Golds, string[] Predictions) Data(string kind, int n)
    {
        var random = new Random(42);
        switch (kind)
        {
            case "classification":
                string[] labels = [.. Classification.Labels.Take(4)];
                string[] golds = [.. Enumerable.Range(0, n).Select(_ => labels[random.Next(labels.Length)])];
                return (Classification, golds, [.. golds.Select(g => random.NextDouble() < 0.6 ? g : random.NextDouble() < 0.8 ? labels[random.Next(labels.Length)] : "not a label")]);
            case "rating":
                string[] ratings = [.. Enumerable.Range(0, n).Select(_ => random.Next(1, 6).ToString(System.Globalization.CultureInfo.InvariantCulture))];
                return (Rating, ratings, [.. ratings.Select(g => random.NextDouble() < 0.1 ? "n/a" : Math.Clamp(int.Parse(g, System.Globalization.CultureInfo.InvariantCulture) + random.Next(-1, 2), 1, 5).ToString(System.Globalization.CultureInfo.InvariantCulture))]);
            default:
                string[] words = ["deep", "learning", "for", "user", "reasoning", "graphs", "memory", "models"];
                string[] titles = [.. Enumerable.Range(0, n).Select(_ => string.Join(' ', Enumerable.Range(0, 5).Select(_ => words[random.Next(words.Length)])))];
                return (Generation, titles, [.. titles.Select(t => string.Join(' ', t.Split(' ').Where(_ => random.NextDouble() < 0.6)))]);
        }
    }

    private static double Percentile(double[] sorted, double p)
    {
        double h = (sorted.Length - 1) * p;
        int low = (int)Math.Floor(h);
        return sorted[low] + ((h - low) * (sorted[Math.Min(low + 1, sorted.Length - 1)] - sorted[low]));
    }
}
