namespace Rpm.Evaluation.Tests.Metrics;

public sealed class LampMetricsTests
{
    private static readonly string[] Labels = ["a", "b", "c"];

    [Fact]
    public void Accuracy_and_macro_F1_run_over_the_whole_label_set_and_an_answer_outside_it_is_wrong()
    {
        string[] golds = ["a", "a", "b", "b"];
        string[] predictions = ["a", "b", "b", "x"];

        // a: TP 1, FP 0, FN 1 -> 2/3. b: TP 1, FP 1, FN 1 -> 1/2. c: never gold nor predicted -> 0.
        Assert.Equal(0.5, LampMetrics.ComputeAccuracy(golds, predictions, Labels), 12);
        Assert.Equal(7.0 / 18.0, LampMetrics.ComputeMacroF1(golds, predictions, Labels), 12);
    }

    [Fact]
    public void Answers_are_stripped_but_compared_with_case_as_LaMP_does()
    {
        string[] golds = ["a", "b"];

        Assert.Equal(1.0, LampMetrics.ComputeAccuracy(golds, [" a ", "b\n"], Labels), 12);
        Assert.Equal(0.5, LampMetrics.ComputeAccuracy(golds, ["A", "b"], Labels), 12);
    }

    [Fact]
    public void All_wrong_gives_zero_and_all_right_on_two_of_three_labels_gives_two_thirds_F1()
    {
        Assert.Equal(0, LampMetrics.ComputeMacroF1(["a", "b"], ["", "!!"], Labels), 12);
        Assert.Equal(2.0 / 3.0, LampMetrics.ComputeMacroF1(["a", "b"], ["a", "b"], Labels), 12);
    }

    [Fact]
    public void A_gold_outside_the_label_set_is_a_data_error()
    {
        var ex = Assert.Throws<ArgumentException>(() => LampMetrics.ComputeAccuracy(["z"], ["a"], Labels));
        Assert.Contains("'z'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MAE_and_RMSE_score_an_unparseable_answer_as_the_farther_end_of_the_scale_and_a_tie_as_the_top()
    {
        var scale = new RatingScale(1, 5, 1);
        string[] golds = ["2", "4", "3", "5"];
        string[] predictions = ["3", "oops", "", " 4.5 "];

        // |3-2| = 1; "oops" vs 4 -> 1 (farther) -> 3; "" vs 3 -> tie -> 5 -> 2; |4.5-5| = 0.5.
        var (mae, rmse) = LampMetrics.ComputeMaeRmse(golds, predictions, scale);

        Assert.Equal(6.5 / 4, mae, 12);
        Assert.Equal(Math.Sqrt(14.25 / 4), rmse, 12);
    }

    [Theory]
    [InlineData("4.", 4.0)]
    [InlineData(".5", 0.5)]
    [InlineData("1e0", 1.0)]
    [InlineData("+3", 3.0)]
    [InlineData(" -1 ", -1.0)]
    [InlineData("4_0", 40.0)]
    [InlineData("7", 7.0)]
    public void Ratings_parse_like_Python_float(string text, double expected)
    {
        Assert.Equal(expected, LampMetrics.RatingValue(text, 3, 1, 5), 12);
    }

    [Theory]
    [InlineData("4__0")]
    [InlineData("_4")]
    [InlineData("four")]
    [InlineData("4/5")]
    [InlineData("nan")]
    [InlineData("inf")]
    [InlineData("4 stars")]
    public void Unparseable_ratings_take_the_far_end(string text)
    {
        Assert.Equal(5.0, LampMetrics.RatingValue(text, 2, 1, 5));
        Assert.Equal(1.0, LampMetrics.RatingValue(text, 4.5, 1, 5));

        // Equally far (LaMP: abs(1 - y) > abs(5 - y) is false): the top of the scale.
        Assert.Equal(5.0, LampMetrics.RatingValue(text, 3, 1, 5));
        Assert.Equal(5.0, LampMetrics.RatingValue(text, 2.75, 0.5, 5));
    }

    [Fact]
    public void ROUGE_matches_rouge_score_on_hand_worked_cases()
    {
        // Reference 6 tokens (the x2, cat, sat, on, mat), prediction 5 all matched: P = 1, R = 5/6, F = 10/11.
        Assert.Equal(10.0 / 11.0, RougeScorer.Rouge1("The cat sat on the mat.", "the cat on the mat"), 12);
        Assert.Equal(10.0 / 11.0, RougeScorer.RougeL("The cat sat on the mat.", "the cat on the mat"), 12);

        // Reversed order: every unigram matches, the longest common subsequence is one token.
        Assert.Equal(1.0, RougeScorer.Rouge1("a b c d", "d c b a"), 12);
        Assert.Equal(0.25, RougeScorer.RougeL("a b c d", "d c b a"), 12);

        // Clipped counts: "the the the" against "the cat": overlap 1, P = 1/3, R = 1/2, F = 0.4.
        Assert.Equal(0.4, RougeScorer.Rouge1("the cat", "the the the"), 12);
    }

    [Theory]
    [InlineData("", "a title")]
    [InlineData("a title", "")]
    [InlineData("a title", "?!... --")]
    [InlineData("", "")]
    public void Empty_and_punctuation_only_texts_score_zero(string reference, string prediction)
    {
        Assert.Equal(0, RougeScorer.Rouge1(reference, prediction));
        Assert.Equal(0, RougeScorer.RougeL(reference, prediction));
    }

    [Fact]
    public void Tokens_are_lower_case_alphanumeric_runs_without_stemming()
    {
        Assert.Equal(["state", "of", "the", "art", "nets", "2024"], RougeScorer.Tokenize("State-of-the-Art NETS (2024)!"));
        Assert.Equal(["caf"], RougeScorer.Tokenize("Café"));
        Assert.Equal(1.0, RougeScorer.Rouge1("Hello, World!", "hello world"), 12);
        Assert.Equal(0, RougeScorer.Rouge1("running", "run"));
    }

    [Fact]
    public void Score_matches_ids_and_refuses_a_missing_prediction()
    {
        RpmTask task = LampTaskSpec.Lamp5.Task;
        var golds = new LampOutputs("LaMP_5", [new("1", "a b c d"), new("2", "The cat sat on the mat.")]);
        var predictions = new LampOutputs("LaMP_5", [new("2", "the cat on the mat"), new("1", "d c b a"), new("9", "extra")]);

        MetricSet metrics = LampMetrics.Score(task, golds, predictions);

        Assert.Equal((1.0 + (10.0 / 11.0)) / 2, metrics.Values[LampMetrics.Rouge1], 12);
        Assert.Equal((0.25 + (10.0 / 11.0)) / 2, metrics.Values[LampMetrics.RougeL], 12);
        var ex = Assert.Throws<ArgumentException>(() => LampMetrics.Score(task, golds, new LampOutputs("x", [new("1", "a")])));
        Assert.Contains("'2'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_counts_invalid_answers_per_kind()
    {
        MetricSet classification = LampMetrics.Score(LampTaskSpec.Lamp2.Task, ["comedy", "classic"], ["comedy", "Comedy"]);
        MetricSet rating = LampMetrics.Score(LampTaskSpec.Lamp3.Task, ["3", "4"], ["three", "4"]);
        MetricSet choice = LampMetrics.Score(RpmTask.MultipleChoice("mc", "Pick."), ["Yes", "No"], ["Yes", " No "]);

        Assert.Equal(1, classification.InvalidAnswers);
        Assert.Equal(0.5, classification.Values[LampMetrics.Accuracy]);
        Assert.Equal(1, rating.InvalidAnswers);
        Assert.Equal(1.0, rating.Values[LampMetrics.Mae]);
        Assert.Equal(1.0, choice.Values[LampMetrics.Accuracy]);
        Assert.True(MetricSet.LowerIsBetter(LampMetrics.Mae));
        Assert.False(MetricSet.LowerIsBetter(LampMetrics.F1));
    }
}
