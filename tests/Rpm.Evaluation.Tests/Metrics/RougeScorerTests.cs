namespace Rpm.Evaluation.Tests.Metrics;

/// <summary>
/// Per-item ROUGE against Google's rouge_score (tokenize.py: Python's lower(), [^a-z0-9]+ to spaces, no stemmer;
/// rouge_scorer.py: clipped unigram overlap, LCS, F = 2PR / (P + R)). Every expected value is worked out by hand in
/// the comment beside it.
/// </summary>
public sealed class RougeScorerTests
{
    [Theory]
    // [hello, world, it, s, 2024] vs [hello, world, its, 2024]: overlap 3, P 3/4, R 3/5, F 2/3; LCS hello world 2024 = 3.
    [InlineData("Hello, world! It's 2024.", "hello world its 2024", 2.0 / 3, 2.0 / 3)]
    // [covid, 19, in, 2020] vs [covid, 19, 2020]: overlap 3, P 1, R 3/4, F 6/7; LCS 3.
    [InlineData("COVID-19 in 2020", "covid 19 2020", 6.0 / 7, 6.0 / 7)]
    // Accented letters are not [a-z0-9]: [caf, na, ve, r, sum] vs [cafe, naive, resume] share nothing.
    [InlineData("Café naïve résumé", "cafe naive resume", 0, 0)]
    // Same counts (ROUGE-1 = 1) but order differs: LCS of abab and baba is 3, P = R = 3/4.
    [InlineData("a b a b", "b a b a", 1, 0.75)]
    // Python lower-cases U+0130 to "i" + a combining dot, which splits the word: [i, stanbul, rocks] vs
    // [istanbul, rocks]: overlap 1, P 1/2, R 1/3, F 0.4 (.NET's ToLowerInvariant would have given 1).
    [InlineData("\u0130stanbul rocks", "istanbul rocks", 0.4, 0.4)]
    // The Kelvin sign lower-cases to an ASCII k in Python: [kelvin, scale] on both sides.
    [InlineData("\u212Aelvin scale", "kelvin scale", 1, 1)]
    // Empty sides score 0, as rouge_score does (ROUGE-1 divides by max(count, 1); ROUGE-L returns 0).
    [InlineData("", "", 0, 0)]
    [InlineData("a title", "", 0, 0)]
    [InlineData("", "a title", 0, 0)]
    [InlineData("a", "!!! ...", 0, 0)]
    // CJK characters are not tokens at all: [text] vs [text].
    [InlineData("日本語 text", "text", 1, 1)]
    public void Per_item_F_measures_match_rouge_score(string reference, string prediction, double rouge1, double rougeL)
    {
        Assert.Equal(rouge1, RougeScorer.Rouge1(reference, prediction), 12);
        Assert.Equal(rougeL, RougeScorer.RougeL(reference, prediction), 12);
    }

    [Fact]
    public void Tokens_are_lower_case_ASCII_letters_and_digits_split_at_everything_else()
    {
        Assert.Equal(["i", "stanbul"], RougeScorer.Tokenize("\u0130stanbul"));
        Assert.Equal(["kelvin"], RougeScorer.Tokenize("\u212Aelvin"));
        Assert.Equal(["gpt", "4o", "mini", "s", "f1", "0", "93"], RougeScorer.Tokenize("GPT-4o-mini's F1: 0.93"));
        Assert.Equal(["na", "ve"], RougeScorer.Tokenize("NAÏVE"));
        Assert.Empty(RougeScorer.Tokenize(null));
        Assert.Empty(RougeScorer.Tokenize("  \t\n ¿¡ "));
    }

    [Fact]
    public void The_reported_aggregate_is_the_mean_of_per_item_F_measures()
    {
        RpmTask task = RpmTask.Generation("titles", "Write the title.");
        var golds = new LampOutputs("titles", [new("1", "COVID-19 in 2020"), new("2", "a b a b"), new("3", "anything")]);
        var predictions = new LampOutputs("titles", [new("1", "covid 19 2020"), new("2", "b a b a"), new("3", "")]);

        MetricSet metrics = LampMetrics.Score(task, golds, predictions);

        Assert.Equal(((6.0 / 7) + 1 + 0) / 3, metrics.Values[LampMetrics.Rouge1], 12);
        Assert.Equal(((6.0 / 7) + 0.75 + 0) / 3, metrics.Values[LampMetrics.RougeL], 12);
    }

    [Fact]
    public async Task A_generation_report_says_how_the_ROUGE_aggregate_is_formed_and_a_rating_report_does_not()
    {
        RpmTask titles = RpmTask.Generation("titles", "Write the title this user gives a paper.");
        var data = new EvaluationDataset("titles", titles,
        [
            new EvaluationUser("u", "u", [new("h", "An abstract about retrieval.", "Retrieval Matters")], [new EvaluationQuery("q", "Generate a title for the following abstract of a paper: personalization.", "Personal Titles")]),
        ]);
        var runner = new EvaluationRunner(new EvaluationRunnerOptions { ModelId = "fake-model" });

        EvaluationResult generation = await runner.RunAsync(data, [new ZeroShotMethod()], new Fakes.EvalChatClient(), null);
        EvaluationResult rating = await runner.RunAsync(Fakes.SmallData.Ratings(), [new UserPriorMethod()], null, null);

        Assert.Contains("mean over queries of each query's rouge_score F-measure", EvaluationReportWriter.RenderMarkdown(generation), StringComparison.Ordinal);
        Assert.Contains("BootstrapAggregator", EvaluationReportWriter.RenderHtml(generation), StringComparison.Ordinal);
        Assert.DoesNotContain("rouge_score", EvaluationReportWriter.RenderMarkdown(rating), StringComparison.Ordinal);
    }
}
