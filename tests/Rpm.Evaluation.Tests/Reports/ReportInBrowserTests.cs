using System.Text.Json.Nodes;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Reports;

/// <summary>report.html as a reader sees it: rendered by a real headless Chromium, every section laid out, no script or load error.</summary>
public sealed class ReportInBrowserTests
{
    // For each section id: is it there, how big is it laid out, and is every chart in it drawn (size and shapes).
    private const string Layout = """
        (() => {
          const ids = ["metrics", "comparison", "cost", "quality-cost", "table", "non-paper", "rpm-built", "rationales"];
          const sections = {};
          for (const id of ids) {
            const e = document.getElementById(id);
            if (!e) { sections[id] = null; continue; }
            const r = e.getBoundingClientRect();
            const charts = [...e.querySelectorAll("svg")].map(s => { const b = s.getBoundingClientRect(); return { id: s.id, width: b.width, height: b.height, shapes: s.querySelectorAll("rect,circle,path").length }; });
            sections[id] = { width: r.width, height: r.height, display: getComputedStyle(e).display, charts };
          }
          // Text in any chart that overlaps other text in the same chart (labels drawn over each other).
          const overlaps = [];
          for (const svg of document.querySelectorAll("svg")) {
            const boxes = [...svg.querySelectorAll("text")].map(t => ({ text: t.textContent, r: t.getBoundingClientRect() }));
            for (let i = 0; i < boxes.length; i++)
              for (let j = i + 1; j < boxes.length; j++) {
                const a = boxes[i].r, b = boxes[j].r;
                if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
                  overlaps.push(svg.id + ": '" + boxes[i].text + "' over '" + boxes[j].text + "'");
              }
          }
          // Text that reaches outside its chart (cut off by the chart's edge).
          for (const svg of document.querySelectorAll("svg")) {
            const box = svg.getBoundingClientRect();
            for (const t of svg.querySelectorAll("text")) {
              const r = t.getBoundingClientRect();
              if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
                overlaps.push(svg.id + ": '" + t.textContent + "' outside the chart");
            }
          }
          return { sections, overlaps, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, title: document.title };
        })()
        """;

    [Fact]
    public async Task A_run_with_a_model_renders_every_section_with_drawn_charts_and_no_errors()
    {
        EvaluationResult result = await new EvaluationRunner(new EvaluationRunnerOptions { ModelId = "fake-model" })
            .RunAsync(SmallData.Tags(), [.. new[] { "zero-shot", "rag-bm25", "rpm", "history-vote" }.Select(EvaluationMethods.Create)], new EvalChatClient(), new HashingEmbeddingGenerator());
        string folder = TestFiles.NewFolder();
        ReportFiles files = await EvaluationReportWriter.WriteFilesAsync(result, folder);

        await using HeadlessChromium browser = await HeadlessChromium.StartAsync(1280, 900);
        await browser.OpenAsync(files.Html);
        JsonNode page = (await browser.EvaluateAsync(Layout))!;
        string screenshot = Path.Combine(folder, "report.png");
        await browser.ScreenshotAsync(screenshot);

        Assert.Empty(browser.Errors);
        Assert.Empty(page["overlaps"]!.AsArray().Select(o => (string?)o));
        Assert.Equal("tags: RPM evaluation", (string?)page["title"]);
        foreach (string id in new[] { "metrics", "comparison", "cost", "quality-cost", "table", "non-paper", "rpm-built", "rationales" })
        {
            JsonNode? section = page["sections"]![id];
            Assert.True(section is not null, $"section #{id} is missing");
            Assert.NotEqual("none", (string?)section!["display"]);
            Assert.True(section["width"]!.GetValue<double>() > 600 && section["height"]!.GetValue<double>() > 80, $"section #{id} is laid out at {section["width"]} x {section["height"]} px");
            foreach (JsonNode? chart in section["charts"]!.AsArray())
            {
                Assert.True(chart!["width"]!.GetValue<double>() > 200 && chart["height"]!.GetValue<double>() > 60, $"chart #{chart["id"]} in #{id} is drawn at {chart["width"]} x {chart["height"]} px");
                Assert.True(chart["shapes"]!.GetValue<int>() >= 4, $"chart #{chart["id"]} in #{id} has {chart["shapes"]} shapes");
            }
        }

        Assert.Equal(["metric-accuracy", "metric-f1"], page["sections"]!["metrics"]!["charts"]!.AsArray().Select(c => (string?)c!["id"]));
        Assert.Equal(2, page["sections"]!["quality-cost"]!["charts"]!.AsArray().Count);
        Assert.True(page["scrollWidth"]!.GetValue<double>() <= page["innerWidth"]!.GetValue<double>(), $"the page is wider ({page["scrollWidth"]} px) than the window ({page["innerWidth"]} px)");
        Assert.True(new FileInfo(screenshot).Length > 20_000, "the screenshot is nearly empty");
    }

    [Fact]
    public async Task A_run_without_a_model_renders_without_cost_sections_and_no_errors()
    {
        EvaluationResult result = await new EvaluationRunner().RunAsync(SmallData.Tags(), [new HistoryVoteMethod(), new UserPriorMethod()], null, new HashingEmbeddingGenerator());
        ReportFiles files = await EvaluationReportWriter.WriteFilesAsync(result, TestFiles.NewFolder());

        await using HeadlessChromium browser = await HeadlessChromium.StartAsync(1280, 900);
        await browser.OpenAsync(files.Html);
        JsonNode page = (await browser.EvaluateAsync(Layout))!;

        Assert.Empty(browser.Errors);
        Assert.NotNull(page["sections"]!["metrics"]);
        Assert.NotNull(page["sections"]!["table"]);
        Assert.Null(page["sections"]!["cost"]);
        Assert.Null(page["sections"]!["quality-cost"]);
        Assert.Null(page["sections"]!["comparison"]);
    }

    [Fact]
    public async Task The_browser_check_reports_a_script_error_and_a_resource_that_fails_to_load()
    {
        string page = TestFiles.Write(TestFiles.NewFolder(), "broken.html", """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head>
            <body><p>x</p><img src="missing.png"><script>notDefinedAnywhere();</script></body></html>
            """);

        await using HeadlessChromium browser = await HeadlessChromium.StartAsync(800, 600);
        await browser.OpenAsync(page);

        Assert.Contains(browser.Errors, e => e.Contains("notDefinedAnywhere", StringComparison.Ordinal));
        Assert.Contains(browser.Errors, e => e.Contains("missing.png", StringComparison.Ordinal) || e.Contains("ERR_FILE_NOT_FOUND", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Methods_at_the_same_spot_of_the_quality_cost_chart_share_a_label_free_ones_stand_apart_and_no_label_covers_another()
    {
        string[] golds = [.. Enumerable.Repeat("comedy", 40)];
        EvaluationResult result = ReportTests.Result(golds, ("zero-shot", 20, 4000), ("rag-bm25", 20, 4000), ("rag-dense", 21, 4100), ("pag", 19, 3900), ("history-vote", 22, 0), ("user-prior", 22, 0));
        string file = TestFiles.Write(TestFiles.NewFolder(), "report.html", EvaluationReportWriter.RenderHtml(result));

        await using HeadlessChromium browser = await HeadlessChromium.StartAsync(1280, 900);
        await browser.OpenAsync(file);
        JsonNode page = (await browser.EvaluateAsync(Layout))!;
        JsonNode? labels = await browser.EvaluateAsync("[...document.querySelectorAll('#quality-cost-user text')].map(t => t.textContent)");

        Assert.Empty(browser.Errors);
        Assert.Empty(page["overlaps"]!.AsArray().Select(o => (string?)o));
        Assert.Contains("zero-shot, rag-bm25", labels!.AsArray().Select(l => (string?)l));
        Assert.Contains("history-vote", labels.AsArray().Select(l => (string?)l)); // methods that spend nothing stand side by side, each with its own dot
        Assert.Contains("user-prior", labels.AsArray().Select(l => (string?)l));
    }
}
