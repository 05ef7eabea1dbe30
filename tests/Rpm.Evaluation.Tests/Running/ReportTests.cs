using System.Text.Json;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Running;

public sealed class ReportTests
{
    [Fact]
    public async Task Reports_hold_predictions_metrics_markdown_and_an_HTML_page_with_charts_costs_and_RPM_rationales()
    {
        EvaluationDataset data = SmallData.Tags();
        var runner = new EvaluationRunner(new EvaluationRunnerOptions { ModelId = "fake-model" });
        EvaluationResult result = await runner.RunAsync(data, [.. new[] { "zero-shot", "rag-bm25", "rpm", "history-vote" }.Select(EvaluationMethods.Create)], new EvalChatClient(), new HashingEmbeddingGenerator());
        string folder = TestFiles.NewFolder();

        ReportFiles files = await EvaluationReportWriter.WriteAsync(result, folder);

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
}
