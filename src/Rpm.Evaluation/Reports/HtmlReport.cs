using System.Globalization;
using System.Net;
using System.Text;

namespace Rpm.Evaluation;

/// <summary>
/// The self-contained HTML page of a run (no script, no external resource): each metric by method with its bootstrap
/// interval, RPM against the best baseline, cost and quality against cost (when anything was spent), the table, where
/// the builds of methods that build user models did not follow the paper, what RPM built for a few users, and RPM's
/// rationales with their examples. Each part is a <c>&lt;section&gt;</c> with a stable id: <c>metrics</c>,
/// <c>comparison</c>, <c>cost</c>, <c>quality-cost</c>, <c>table</c>, <c>non-paper</c>, <c>rpm-built</c>, <c>rationales</c>.
/// </summary>
internal static partial class HtmlReport
{
    private const string Ink = "#1d2430", Muted = "#5b6475", Blue = "#4c6ef5", Green = "#0b6e4f", Grid = "#e1e4ea";

    public static string Render(EvaluationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        IReadOnlyList<string> metrics = LampMetrics.For(result.Task.Kind);
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.AppendLine(CultureInfo.InvariantCulture, $"<title>{E(result.Dataset)}: RPM evaluation</title>");
        html.AppendLine("<style>");
        html.AppendLine("body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}");
        html.AppendLine("main{max-width:1040px;margin:0 auto;padding:24px}h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2rem}h3{font-size:1rem;margin:.2rem 0 .6rem}");
        html.AppendLine(".sub{color:#5b6475}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}");
        html.AppendLine(".card{background:#fff;border:1px solid #e1e4ea;border-radius:10px;padding:16px}table{border-collapse:collapse;width:100%;background:#fff}");
        html.AppendLine("th,td{padding:6px 10px;border-bottom:1px solid #e1e4ea;text-align:right;font-variant-numeric:tabular-nums}th:first-child,td:first-child{text-align:left}");
        html.AppendLine("svg.scatter{max-width:520px;display:block}td.text,th.text{text-align:left}td:first-child{white-space:nowrap}.ci{color:#5b6475;font-size:.85em;white-space:nowrap}");
        html.AppendLine(".best{font-weight:700;color:#0b6e4f}.note{background:#fff8e1;border:1px solid #f0d98c;border-radius:8px;padding:10px 14px}");
        html.AppendLine(".ex{border-left:3px solid #4c6ef5;padding-left:10px;margin:8px 0}.tag{display:inline-block;background:#eef1ff;border-radius:4px;padding:1px 6px;margin:2px;font-size:.85em}");
        html.AppendLine(".ok{color:#0b6e4f}.bad{color:#b42318}details{margin:6px 0}summary{cursor:pointer}code{background:#f0f2f5;padding:1px 4px;border-radius:4px}");
        html.AppendLine("</style></head><body><main>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<h1>{E(result.Dataset)}</h1>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<p class=\"sub\">{E(EvaluationReportWriter.TaskText(result.Dataset, result.Task))} · model <b>{E(result.ModelId)}</b> · {E(EvaluationReportWriter.Units(result.Users, result.People))} · {ReportFormat.Noun(result.Queries, "query", "queries")} · K = {result.RetrievalCount}{(result.BatchSize > 1 ? $" · RPM's builds batched {result.BatchSize} items a call" : string.Empty)} · {result.Elapsed.TotalSeconds:0.0} s</p>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<p class=\"note\">{E(EvaluationReportWriter.Note(result))} {E(EvaluationReportWriter.Spent(result))}</p>");
        if (result.Skipped.Count > 0)
        {
            html.AppendLine("<p class=\"note\"><b>Not run:</b> ");
            html.AppendLine(string.Join("; ", result.Skipped.GroupBy(s => s.Reason, StringComparer.Ordinal).Select(g => string.Join(", ", g.Select(s => $"<code>{E(s.Name)}</code>")) + ": " + E(g.Key))));
            html.AppendLine("</p>");
        }

        Metrics(html, result, metrics);
        Comparison(html, result);
        if (EvaluationReportWriter.AnythingSpent(result))
        {
            Cost(html, result);
            QualityAgainstCost(html, result, metrics[0]);
        }

        Table(html, result, metrics);
        TuningReport.Html(html, result);
        NonPaperPathsSection.Html(html, result);
        UserModels(html, result);
        Rationales(html, result);
        html.AppendLine("<p class=\"sub\">Files: <code>metrics.json</code>, <code>report.md</code>, <code>golds.json</code>, <code>predictions/&lt;method&gt;.json</code> (LaMP outputs format; re-score any of them with <code>rpm score</code>).</p>");
        html.AppendLine("</main></body></html>");
        return html.ToString();
    }

    private static void Metrics(StringBuilder html, EvaluationResult result, IReadOnlyList<string> metrics)
    {
        html.AppendLine("<section id=\"metrics\"><h2>Metrics by method</h2>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<p class=\"sub\">{E(EvaluationReportWriter.IntervalNote(result))}</p><div class=\"cards\">");
        foreach (string metric in metrics)
        {
            bool lower = MetricSet.LowerIsBetter(metric);
            string? best = EvaluationReportWriter.ClearlyBest(result, metric);
            html.AppendLine(CultureInfo.InvariantCulture, $"<div class=\"card\"><b>{E(metric)}</b> <span class=\"sub\">({(lower ? "lower is better" : "higher is better")})</span>");
            var bars = result.Methods.Select(m => new Bar(m.Name, m.Metrics.Values[metric], m.Intervals.GetValueOrDefault(metric), m.Name == best)).ToList();
            double? fullScale = lower ? null : 1.0;
            html.AppendLine(BarChart("metric-" + metric, bars, ReportFormat.Metric, fullScale));
            html.AppendLine(best is null
                ? (result.Methods.Count > 1 ? "<div class=\"sub\">No method is clearly best: the best one's interval overlaps another's.</div>" : string.Empty)
                : $"<div class=\"sub\"><span class=\"best\">{E(best)}</span> is best, and its interval overlaps no other method's.</div>");
            html.AppendLine("</div>");
        }

        html.AppendLine("</div></section>");
    }

    private static void Comparison(StringBuilder html, EvaluationResult result)
    {
        if (result.Comparisons.Count == 0)
        {
            return;
        }

        PairedDifference first = result.Comparisons[0];
        html.AppendLine("<section id=\"comparison\"><h2>RPM against the best baseline, on the same queries</h2>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<p class=\"sub\">Per metric, <code>rpm</code> minus the best method on that metric that is not a form of RPM, on the same {first.Count:N0} queries; the interval is a paired {ReportFormat.Level(first.Level)} bootstrap (both methods scored on the same resampled queries).</p>");
        html.AppendLine("<table><thead><tr><th>metric</th><th class=\"text\">baseline</th><th>rpm</th><th>baseline</th><th>difference [interval]</th><th class=\"text\">reading</th></tr></thead><tbody>");
        foreach (PairedDifference d in result.Comparisons)
        {
            double rpm = result.Methods.First(m => m.Name == d.Method).Metrics.Values[d.Metric];
            double baseline = result.Methods.First(m => m.Name == d.Baseline).Metrics.Values[d.Metric];
            string cls = d.MethodIsBetter ? "ok" : d.MethodIsWorse ? "bad" : "sub";
            html.AppendLine(CultureInfo.InvariantCulture, $"<tr><td>{E(d.Metric)}</td><td class=\"text\"><code>{E(d.Baseline)}</code></td><td>{ReportFormat.Metric(rpm)}</td><td>{ReportFormat.Metric(baseline)}</td><td>{E(ReportFormat.Difference(d))}</td><td class=\"text {cls}\">{E(EvaluationReportWriter.Reading(d))}</td></tr>");
        }

        html.AppendLine("</tbody></table></section>");
    }

    private static void Cost(StringBuilder html, EvaluationResult result)
    {
        if (result.Prices is not TokenPrices prices)
        {
            html.AppendLine("<section id=\"cost\"><h2>Cost per method</h2><p class=\"sub\">Unknown: no prices were given for this model, so only calls and tokens are counted (the table below).</p></section>");
            return;
        }

        html.AppendLine(CultureInfo.InvariantCulture, $"<section id=\"cost\"><h2>Cost per method</h2><p class=\"sub\">At {ReportFormat.Money(prices.InputPerMillion)} / {ReportFormat.Money(prices.OutputPerMillion)} per million input / output tokens; a method's cost counts every call it needs, cached or not.</p><div class=\"cards\">");
        html.AppendLine("<div class=\"card\"><b>build cost per user</b>");
        html.AppendLine(BarChart("cost-build", [.. result.Methods.Select(m => new Bar(m.Name, (double)m.BuildCostPerUser(prices), null, false))], v => ReportFormat.Money((decimal)v), null));
        html.AppendLine("</div><div class=\"card\"><b>cost per query</b>");
        html.AppendLine(BarChart("cost-query", [.. result.Methods.Select(m => new Bar(m.Name, (double)m.CostPerQuery(prices), null, false))], v => ReportFormat.Money((decimal)v), null));
        html.AppendLine("</div></div></section>");
    }

    private static void QualityAgainstCost(StringBuilder html, EvaluationResult result, string metric)
    {
        TokenPrices? prices = result.Prices;
        bool priced = prices is not null && (prices.InputPerMillion > 0 || prices.OutputPerMillion > 0);
        Func<MethodResult, double> total = priced
            ? m => (double)m.TotalUsage.Cost(prices!)
            : m => m.TotalUsage.InputTokens + m.TotalUsage.OutputTokens;
        Func<double, string> format = priced ? v => ReportFormat.Money((decimal)v) : ReportFormat.Count;
        string unit = priced ? "cost" : "tokens";
        bool lower = MetricSet.LowerIsBetter(metric);
        string axis = $"{metric} ({(lower ? "lower is better" : "higher is better")})";
        html.AppendLine("<section id=\"quality-cost\"><h2>Quality against cost</h2>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<p class=\"sub\">{E(axis)}, the task's first metric, against everything a method spends, its build included (so these are not the per-query costs above, which leave the build out), on a logarithmic scale so that small {unit}s stay apart; methods that spend nothing sit on the \"free\" line. Vertical bars: the metric's interval.</p><div class=\"cards\">");
        Point[] PerUnit(int count) => [.. result.Methods.Select(m => new Point(m.Name, count == 0 ? 0 : total(m) / count, m.Metrics.Values[metric], m.Intervals.GetValueOrDefault(metric)))];
        if (result.Users == result.Queries)
        {
            html.AppendLine(CultureInfo.InvariantCulture, $"<div class=\"card\"><b>all {unit} per user</b> <span class=\"sub\">(build + the user's one query, so also per query)</span>");
            html.AppendLine(Scatter("quality-cost-user", $"{unit} per user, build included", axis, PerUnit(result.Users), format, !lower));
        }
        else
        {
            html.AppendLine(CultureInfo.InvariantCulture, $"<div class=\"card\"><b>all {unit} per user</b> <span class=\"sub\">(build + the user's queries)</span>");
            html.AppendLine(Scatter("quality-cost-user", $"{unit} per user, build included", axis, PerUnit(result.Users), format, !lower));
            html.AppendLine(CultureInfo.InvariantCulture, $"</div><div class=\"card\"><b>all {unit} per query</b> <span class=\"sub\">(build spread over the queries)</span>");
            html.AppendLine(Scatter("quality-cost-query", $"{unit} per query, build included", axis, PerUnit(result.Queries), format, !lower));
        }

        html.AppendLine("</div></div></section>");
    }

    private static void Table(StringBuilder html, EvaluationResult result, IReadOnlyList<string> metrics)
    {
        bool spent = EvaluationReportWriter.AnythingSpent(result);
        html.AppendLine("<section id=\"table\"><h2>Table</h2><table><thead><tr><th>method</th>");
        foreach (string metric in metrics)
        {
            html.Append(CultureInfo.InvariantCulture, $"<th>{E(metric)} {(MetricSet.LowerIsBetter(metric) ? "↓" : "↑")}</th>");
        }

        html.AppendLine(spent
            ? "<th>n</th><th>invalid</th><th>failed</th><th>build calls / user</th><th>build tokens / user</th><th>calls / query</th><th>tokens / query</th><th>total cost</th></tr></thead><tbody>"
            : "<th>n</th><th>invalid</th><th>failed</th></tr></thead><tbody>");
        var best = metrics.ToDictionary(m => m, m => EvaluationReportWriter.ClearlyBest(result, m), StringComparer.Ordinal);
        foreach (MethodResult m in result.Methods)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td title=\"{E(m.Description)}\">{E(m.Name)}</td>");
            foreach (string metric in metrics)
            {
                string interval = m.Intervals.TryGetValue(metric, out ConfidenceInterval? ci) ? $" <span class=\"ci\">[{ReportFormat.Metric(ci.Lower)}, {ReportFormat.Metric(ci.Upper)}]</span>" : string.Empty;
                html.Append(CultureInfo.InvariantCulture, $"<td{(best[metric] == m.Name ? " class=\"best\"" : string.Empty)}>{ReportFormat.Metric(m.Metrics.Values[metric])}{interval}</td>");
            }

            html.Append(CultureInfo.InvariantCulture, $"<td>{m.Metrics.Count:N0}</td><td>{m.Metrics.InvalidAnswers:N0}</td><td>{m.FailedQueries:N0}</td>");
            if (spent)
            {
                var (bc, bi, bo) = m.BuildPerUser;
                var (qc, qi, qo) = m.PerQuery;
                html.Append(CultureInfo.InvariantCulture, $"<td>{ReportFormat.Count(bc)}</td><td>{ReportFormat.Count(bi + bo)}</td><td>{ReportFormat.Count(qc)}</td><td>{ReportFormat.Count(qi + qo)}</td><td>{E(EvaluationReportWriter.Money(result.Prices, m.TotalUsage.Cost))}</td>");
            }

            html.AppendLine("</tr>");
        }

        html.AppendLine("</tbody></table>");
        html.AppendLine("<ul class=\"sub\">");
        foreach (MethodResult m in result.Methods)
        {
            html.AppendLine(CultureInfo.InvariantCulture, $"<li><code>{E(m.Name)}</code>: {E(m.Description)}</li>");
        }

        html.AppendLine("</ul></section>");
    }

    private static void UserModels(StringBuilder html, EvaluationResult result)
    {
        MethodResult? built = result.Methods.FirstOrDefault(m => m.Name == "rpm" && m.UserModels.Count > 0) ?? result.Methods.FirstOrDefault(m => m.UserModels.Count > 0);
        if (built is null)
        {
            return;
        }

        html.AppendLine(CultureInfo.InvariantCulture, $"<section id=\"rpm-built\"><h2>What <code>{E(built.Name)}</code> built, for {built.UserModels.Count} users</h2>");
        html.AppendLine("<p class=\"sub\">Each user's factors with the statistics the model reasons with at query time (RPM §3.2): coverage is how many history items the factor touches; propensity is the share of those items the user answered each way (labelled tasks); influence and polarity say how the factor shapes the user's text (generation). The same users' answered queries follow.</p>");
        foreach (UserModel model in built.UserModels)
        {
            html.AppendLine(CultureInfo.InvariantCulture, $"<div class=\"card\" id=\"model-{E(Slug(model.UserId))}\" style=\"margin:12px 0\"><h3>user {E(model.UserId)}</h3>");
            html.AppendLine(CultureInfo.InvariantCulture, $"<div class=\"sub\">{ReportFormat.Noun(model.Paths.Count, "reasoning path", "reasoning paths")} · {ReportFormat.Noun(model.Statistics.Count, "factor", "factors")} · {ReportFormat.Noun(model.UnassignedFeatureCount, "unassigned feature", "unassigned features")}{(model.Diagnostics.IsClean ? string.Empty : " · " + E(model.Diagnostics.ToString()))}</div>");
            html.AppendLine("<table><thead><tr><th class=\"text\">factor</th><th>coverage</th><th class=\"text\">statistics</th></tr></thead><tbody>");
            foreach (FactorStatistics s in model.Statistics.OrderByDescending(s => s.Coverage).ThenBy(s => s.Factor.Name, StringComparer.Ordinal))
            {
                html.AppendLine(CultureInfo.InvariantCulture, $"<tr><td class=\"text\" title=\"{E(s.Factor.Description)}\"><b>{E(s.Factor.Name)}</b><br><span class=\"sub\">{E(EvaluationReportWriter.Shorten(s.Factor.Description, 160))}</span></td><td>{s.Coverage:N0}</td><td class=\"text\">{E(ReportFormat.Statistics(model.Task, s))}</td></tr>");
            }

            html.AppendLine("</tbody></table></div>");
        }

        html.AppendLine("</section>");
    }

    private static void Rationales(StringBuilder html, EvaluationResult result)
    {
        MethodResult? explained = result.Methods.FirstOrDefault(m => m.Name == "rpm" && m.Explanations.Count > 0)
            ?? result.Methods.FirstOrDefault(m => m.Explanations.Any(e => e.Rationale is not null));
        if (explained is null)
        {
            return;
        }

        html.AppendLine(CultureInfo.InvariantCulture, $"<section id=\"rationales\"><h2>Why it answered: <code>{E(explained.Name)}</code> on {explained.Explanations.Count} queries</h2>");
        if (explained.Name != "rpm")
        {
            html.AppendLine("<p class=\"sub\">RPM did not run, so the rationales below are those of the first method that gives one.</p>");
        }

        foreach (QueryExplanation q in explained.Explanations)
        {
            bool correct = string.Equals(q.Answer.Trim(), q.Gold.Trim(), StringComparison.Ordinal);
            bool hasModel = explained.UserModels.Any(u => u.UserId == q.UserId);
            html.AppendLine("<div class=\"card\" style=\"margin:12px 0\">");
            html.AppendLine(CultureInfo.InvariantCulture, $"<div class=\"sub\">user <b>{(hasModel ? $"<a href=\"#model-{E(Slug(q.UserId))}\">{E(q.UserId)}</a>" : E(q.UserId))}</b> · query <b>{E(q.QueryId)}</b></div>");
            html.AppendLine(CultureInfo.InvariantCulture, $"<p title=\"{E(EvaluationReportWriter.Shorten(q.Input, 2000))}\">{E(EvaluationReportWriter.Shorten(QueryContent.Of(q.Input), 600))}</p>");
            html.AppendLine(CultureInfo.InvariantCulture, $"<p>answer <b class=\"{(correct ? "ok" : "bad")}\">{E(q.Answer.Length == 0 ? "(none)" : q.Answer)}</b> · the user answered <b>{E(q.Gold)}</b>{(q.IsValid ? string.Empty : " · <span class=\"bad\">not a valid answer</span>")}</p>");
            if (q.Rationale is not null)
            {
                html.AppendLine(CultureInfo.InvariantCulture, $"<p><b>Rationale.</b> {E(q.Rationale)}</p>");
            }

            if (q.QueryFeatures.Count > 0)
            {
                html.AppendLine("<p><b>Query features.</b> " + string.Concat(q.QueryFeatures.Select(f => $"<span class=\"tag\">{E(f)}</span>")) + "</p>");
            }

            if (q.Examples.Count > 0)
            {
                html.AppendLine(CultureInfo.InvariantCulture, $"<details open><summary>{q.Examples.Count} retrieved examples</summary>");
                foreach (ExplainedExample ex in q.Examples)
                {
                    html.AppendLine("<div class=\"ex\">");
                    html.AppendLine(CultureInfo.InvariantCulture, $"<div class=\"sub\">similarity {ReportFormat.Metric(ex.Similarity)} · the user answered <b>{E(ex.Answer)}</b></div>");
                    html.AppendLine(CultureInfo.InvariantCulture, $"<div>{E(EvaluationReportWriter.Shorten(QueryContent.Of(ex.Input), 400))}</div>");
                    if (ex.Features is { Count: > 0 })
                    {
                        html.AppendLine("<div>" + string.Concat(ex.Features.Select(f => $"<span class=\"tag\">{E(f)}</span>")) + "</div>");
                    }

                    if (ex.Reasoning is not null)
                    {
                        html.AppendLine(CultureInfo.InvariantCulture, $"<div><i>{E(ex.Reasoning)}</i></div>");
                    }

                    html.AppendLine("</div>");
                }

                html.AppendLine("</details>");
            }

            html.AppendLine("</div>");
        }

        html.AppendLine("</section>");
    }

    private static string Slug(string text) => new([.. text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private sealed record Bar(string Label, double Value, ConfidenceInterval? Interval, bool Highlight);

    private sealed record Point(string Label, double X, double Y, ConfidenceInterval? Interval);
}
