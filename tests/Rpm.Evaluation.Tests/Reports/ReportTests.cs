using System.Text.Json;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Reports;

public sealed class ReportTests
{
    [Fact]
    public async Task Reports_hold_predictions_metrics_markdown_and_an_HTML_page_with_charts_costs_and_RPM_rationales()
    {
        EvaluationDataset data = SmallData.Tags();
        var runner = new EvaluationRunner(new EvaluationRunnerOptions { ModelId = "fake-model" });
        EvaluationResult result = await runner.RunAsync(data, [.. new[] { "zero-shot", "rag-bm25", "rpm", "history-vote" }.Select(EvaluationMethods.Create)], new EvalChatClient(), new HashingEmbeddingGenerator());
        string folder = TestFiles.NewFolder();

        ReportFiles files = await EvaluationReportWriter.WriteFilesAsync(result, folder);

        Assert.Equal(4, files.Predictions.Count);
        LampOutputs rpmPredictions = await LampOutputs.ReadAsync(Path.Combine(folder, "predictions", "rpm.json"));
        Assert.Equal(["q1", "q2", "q3"], rpmPredictions.Items.Select(i => i.Key));
        LampOutputs golds = await LampOutputs.ReadAsync(files.Golds);
        MetricSet rescored = LampMetrics.Score(data.Task, golds, rpmPredictions);

        using JsonDocument metrics = JsonDocument.Parse(await File.ReadAllTextAsync(files.Metrics));
        JsonElement rpm = metrics.RootElement.GetProperty("methods").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "rpm");
        Assert.Equal(Math.Round(rescored.Values["accuracy"], 6), rpm.GetProperty("metrics").GetProperty("accuracy").GetDouble());
        Assert.Equal(11 + 9, rpm.GetProperty("build").GetProperty("calls").GetInt64());
        Assert.Equal(2.0, rpm.GetProperty("perQuery").GetProperty("calls").GetDouble());
        Assert.Equal("fake-model", metrics.RootElement.GetProperty("model").GetString());

        string markdown = await File.ReadAllTextAsync(files.Markdown);
        Assert.Contains("| method | accuracy ↑ | f1 ↑ |", markdown, StringComparison.Ordinal);
        Assert.Contains("| rpm |", markdown, StringComparison.Ordinal);

        string html = await File.ReadAllTextAsync(files.Html);
        Assert.Contains("<svg id=\"metric-accuracy\"", html, StringComparison.Ordinal);
        Assert.Contains("<svg id=\"metric-f1\"", html, StringComparison.Ordinal);
        Assert.Contains("<svg id=\"cost-build\"", html, StringComparison.Ordinal);
        Assert.Contains("<svg id=\"cost-query\"", html, StringComparison.Ordinal);
        Assert.Contains("Why it answered: <code>rpm</code>", html, StringComparison.Ordinal);
        QueryExplanation first = result.Methods.Single(m => m.Name == "rpm").Explanations[0];
        Assert.Contains(System.Net.WebUtility.HtmlEncode(first.Rationale!), html, StringComparison.Ordinal);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(first.Examples[0].Reasoning!), html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_text_is_escaped_in_the_HTML_report()
    {
        var data = new EvaluationDataset("x", LampTaskSpec.Lamp2.Task,
        [
            new EvaluationUser("u", "u", [new("h", "<script>alert(1)</script> (1999). Genres: Comedy.", "comedy")], [new EvaluationQuery("q", "<b>bold</b> query", "comedy")]),
        ]);
        EvaluationResult result = await new EvaluationRunner().RunAsync(data, [new HistoryVoteMethod()], null, new HashingEmbeddingGenerator());

        string html = EvaluationReportWriter.RenderHtml(result);

        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;bold&lt;/b&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_with_RPM_shows_its_factors_intervals_and_a_paired_comparison_with_the_best_baseline()
    {
        EvaluationResult result = await new EvaluationRunner(new EvaluationRunnerOptions { ModelId = "fake-model" })
            .RunAsync(SmallData.Tags(), [.. new[] { "zero-shot", "rag-bm25", "rpm", "history-vote" }.Select(EvaluationMethods.Create)], new EvalChatClient(), new HashingEmbeddingGenerator());
        MethodResult rpm = result.Methods.Single(m => m.Name == "rpm");

        string html = EvaluationReportWriter.RenderHtml(result);
        string markdown = EvaluationReportWriter.RenderMarkdown(result);
        using JsonDocument json = JsonDocument.Parse(EvaluationReportWriter.RenderJson(result));

        // What RPM built, for the users of the explained queries (u1 and u2), with the statistics the model read.
        Assert.Equal(["u1", "u2"], rpm.UserModels.Select(u => u.UserId));
        foreach (UserModel model in rpm.UserModels)
        {
            foreach (FactorStatistics factor in model.Statistics)
            {
                string statistics = ReportFormat.Statistics(model.Task, factor);
                Assert.Contains(System.Net.WebUtility.HtmlEncode(statistics), html, StringComparison.Ordinal);
                Assert.Contains($"- {factor.Factor.Name} (coverage {factor.Coverage}): {statistics}", markdown, StringComparison.Ordinal);
            }
        }

        // Every metric with n and its interval, written the same way in Markdown, HTML and JSON.
        foreach (MethodResult m in result.Methods)
        {
            ConfidenceInterval accuracy = m.Intervals[LampMetrics.Accuracy];
            Assert.Equal(3, accuracy.Count);
            Assert.Contains($"| {m.Name} | {ReportFormat.Interval(accuracy)} |", markdown, StringComparison.Ordinal);
            Assert.Contains($">{ReportFormat.Metric(accuracy.Value)} <span class=\"ci\">[{ReportFormat.Metric(accuracy.Lower)}, {ReportFormat.Metric(accuracy.Upper)}]</span>", html, StringComparison.Ordinal);
            JsonElement method = json.RootElement.GetProperty("methods").EnumerateArray().Single(x => x.GetProperty("name").GetString() == m.Name);
            Assert.Equal(Math.Round(accuracy.Lower, 6), method.GetProperty("intervals").GetProperty("accuracy")[0].GetDouble());
            Assert.Equal(3, method.GetProperty("count").GetInt32());
        }

        // RPM against the best method that is not a form of RPM, on each metric.
        Assert.Equal([LampMetrics.Accuracy, LampMetrics.F1], result.Comparisons.Select(c => c.Metric));
        foreach (PairedDifference d in result.Comparisons)
        {
            MethodResult best = result.Methods.Where(m => m.Name != "rpm").MaxBy(m => m.Metrics.Values[d.Metric])!;
            Assert.Equal(best.Name, d.Baseline);
            Assert.Equal(rpm.Metrics.Values[d.Metric] - best.Metrics.Values[d.Metric], d.Difference, 12);
            Assert.Contains($"- {d.Metric}: rpm − {d.Baseline} = {ReportFormat.Difference(d)}: ", markdown, StringComparison.Ordinal);
            Assert.Contains(System.Net.WebUtility.HtmlEncode(ReportFormat.Difference(d)), html, StringComparison.Ordinal);
        }

        Assert.Equal(2, json.RootElement.GetProperty("comparisons").GetArrayLength());
        Assert.Contains("<section id=\"rpm-built\">", html, StringComparison.Ordinal);
        Assert.Contains("<section id=\"comparison\">", html, StringComparison.Ordinal);
        Assert.Contains("<section id=\"quality-cost\">", html, StringComparison.Ordinal);

        // Queries as their content, the instruction left out (it stays in the title for the curious).
        Assert.Contains(">Gattaca (1997). Genres: Drama, Sci-Fi, Thriller.</p>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">Which tag does this movie relate to?", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_that_spent_nothing_has_no_cost_section_or_cost_columns()
    {
        EvaluationResult result = await new EvaluationRunner().RunAsync(SmallData.Tags(), [new HistoryVoteMethod(), new UserPriorMethod()], null, new HashingEmbeddingGenerator());

        string html = EvaluationReportWriter.RenderHtml(result);
        string markdown = EvaluationReportWriter.RenderMarkdown(result);

        Assert.DoesNotContain("id=\"cost\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"quality-cost\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("total cost", html, StringComparison.Ordinal);
        Assert.DoesNotContain("cost", markdown.Split("Not run:")[0], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Prices:", markdown, StringComparison.Ordinal);
        Assert.Contains("| method | accuracy ↑ | f1 ↑ | n | invalid | failed |", markdown, StringComparison.Ordinal);
        Assert.Contains("No model calls were made.", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void The_best_method_is_marked_only_when_its_interval_overlaps_no_other()
    {
        string[] golds = [.. Enumerable.Repeat("comedy", 200)];
        EvaluationResult clear = Result(golds, ("a", 150, 0), ("b", 60, 0), ("c", 70, 0));
        EvaluationResult close = Result(golds, ("a", 110, 0), ("b", 104, 0));

        string clearHtml = EvaluationReportWriter.RenderHtml(clear);
        string closeHtml = EvaluationReportWriter.RenderHtml(close);
        string clearMarkdown = EvaluationReportWriter.RenderMarkdown(clear);
        string closeMarkdown = EvaluationReportWriter.RenderMarkdown(close);

        Assert.Contains("<td class=\"best\">0.750 <span", clearHtml, StringComparison.Ordinal);
        Assert.Contains("<span class=\"best\">a</span> is best", clearHtml, StringComparison.Ordinal);
        Assert.Contains("| a | **0.750 [", clearMarkdown, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"best\"", closeHtml, StringComparison.Ordinal);
        Assert.Contains("No method is clearly best", closeHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("**", closeMarkdown.Split("\n\n")[2], StringComparison.Ordinal);
        Assert.DoesNotContain("#0b6e4f\" rx", closeHtml, StringComparison.Ordinal); // no green bar either
    }

    [Theory]
    [InlineData("What is the score of the following movie on a scale of 0.5 to 5 (in steps of 0.5)? just answer with the number without further explanation. movie: 20 Dates (1998). Genres: Comedy, Romance.", "20 Dates (1998). Genres: Comedy, Romance.")]
    [InlineData("Which tag does this movie relate to among the following tags? Just answer with the tag name without further explanation. tags: [sci-fi, comedy] description: Lucky Number Slevin (2006). Genres: Crime.", "Lucky Number Slevin (2006). Genres: Crime.")]
    [InlineData("What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, 4, or 5 without further explanation. review: Great blender, loud.", "Great blender, loud.")]
    [InlineData("Generate a headline for the following article: The council voted on Monday.", "The council voted on Monday.")]
    [InlineData("Generate a title for the following abstract of a paper: We study memory.", "We study memory.")]
    [InlineData("Paraphrase the following tweet without any explanation before or after it: so tired today", "so tired today")]
    [InlineData("For an author who has written the paper with the title \"X\", which reference is related? Just answer with \"[1]\" or \"[2]\" without explanation. [1]: \"A\" [2]: \"B\"", "For an author who has written the paper with the title \"X\", which reference is related? Just answer with \"[1]\" or \"[2]\" without explanation. [1]: \"A\" [2]: \"B\"")]
    [InlineData("  Alien (1979). Genres: Horror.  ", "Alien (1979). Genres: Horror.")]
    [InlineData("movie:", "movie:")]
    public void A_query_is_shown_as_its_content(string input, string shown) => Assert.Equal(shown, QueryContent.Of(input));

    [Fact]
    public void Numbers_read_the_same_everywhere()
    {
        Assert.Equal("$0", ReportFormat.Money(0));
        Assert.Equal("$0.000042", ReportFormat.Money(0.000042m));
        Assert.Equal("$0.0027", ReportFormat.Money(0.002686m));
        Assert.Equal("$0.000080", ReportFormat.Money(0.00008m));
        Assert.Equal("$0.0030", ReportFormat.Money(0.003m));
        Assert.Equal("$0.013", ReportFormat.Money(0.013m));
        Assert.Equal("$0.015", ReportFormat.Money(0.0149m));
        Assert.Equal("$0.52", ReportFormat.Money(0.5246m));
        Assert.Equal("$0.60", ReportFormat.Money(0.6m));
        Assert.Equal("$1.00", ReportFormat.Money(0.996m));
        Assert.Equal("$1.50", ReportFormat.Money(1.4986m));
        Assert.Equal("$12.00", ReportFormat.Money(12m));
        Assert.Equal("-$0.25", ReportFormat.Money(-0.25m));
        Assert.Equal("+0.012", ReportFormat.Difference(0.0123));
        Assert.Equal("-0.034", ReportFormat.Difference(-0.0341));
        Assert.Equal("0.000", ReportFormat.Difference(0));
        Assert.Equal("2.5", ReportFormat.Count(2.5));
        Assert.Equal("12,346", ReportFormat.Count(12345.6));
        Assert.Equal("0.612 [0.571, 0.655]", ReportFormat.Interval(new ConfidenceInterval(0.6124, 0.5711, 0.6549, 500, 0.95)));
        Assert.Equal("95%", ReportFormat.Level(0.95));
    }

    // Methods that answer the first k of the golds right (the rest with another label), scored and bootstrapped for real;
    // each spends the given input tokens on its queries (one call per query), priced as GPT-4o-mini.
    internal static EvaluationResult Result(string[] golds, params (string Name, int Right, long Tokens)[] methods)
    {
        RpmTask task = LampTaskSpec.Lamp2.Task;
        var goldOutputs = new LampOutputs("x", [.. golds.Select((g, i) => new KeyValuePair<string, string>($"q{i}", g))]);
        return new EvaluationResult
        {
            Dataset = "x",
            Task = task,
            ModelId = "(none)",
            Users = 1,
            People = 1,
            Queries = golds.Length,
            Golds = goldOutputs,
            Skipped = [],
            Spent = UsageTotals.Zero,
            Prices = TokenPrices.Gpt4oMini,
            Elapsed = TimeSpan.Zero,
            RetrievalCount = 3,
            Methods =
            [
                .. methods.Select(m =>
                {
                    string[] answers = [.. golds.Select((g, i) => i < m.Right ? g : "drama")];
                    return new MethodResult
                    {
                        Name = m.Name,
                        Description = m.Name,
                        UsesChatModel = false,
                        Predictions = new LampOutputs("x", [.. answers.Select((a, i) => new KeyValuePair<string, string>($"q{i}", a))]),
                        Metrics = LampMetrics.Score(task, golds, answers),
                        Intervals = MetricBootstrap.ComputeIntervals(task, golds, answers),
                        BuildUsage = UsageTotals.Zero,
                        QueryUsage = m.Tokens == 0 ? UsageTotals.Zero : new UsageTotals(golds.Length, 0, m.Tokens, 0, 0),
                        Users = 1,
                        Queries = golds.Length,
                        FailedQueries = 0,
                        Failures = [],
                        Explanations = [],
                    };
                }),
            ],
        };
    }
}
