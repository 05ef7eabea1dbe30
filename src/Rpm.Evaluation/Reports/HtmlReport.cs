using System.Globalization;
using System.Net;
using System.Text;

namespace Rpm.Evaluation;

/// <summary>The self-contained HTML page of a run: a chart of each metric by method, costs, and RPM's rationales with their examples.</summary>
internal static class HtmlReport
{
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
        html.AppendLine("main{max-width:1040px;margin:0 auto;padding:24px}h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2rem}");
        html.AppendLine(".sub{color:#5b6475}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}");
        html.AppendLine(".card{background:#fff;border:1px solid #e1e4ea;border-radius:10px;padding:16px}table{border-collapse:collapse;width:100%;background:#fff}");
        html.AppendLine("th,td{padding:6px 10px;border-bottom:1px solid #e1e4ea;text-align:right;font-variant-numeric:tabular-nums}th:first-child,td:first-child{text-align:left}");
        html.AppendLine(".best{font-weight:700;color:#0b6e4f}.note{background:#fff8e1;border:1px solid #f0d98c;border-radius:8px;padding:10px 14px}");
        html.AppendLine(".ex{border-left:3px solid #4c6ef5;padding-left:10px;margin:8px 0}.tag{display:inline-block;background:#eef1ff;border-radius:4px;padding:1px 6px;margin:2px;font-size:.85em}");
        html.AppendLine(".ok{color:#0b6e4f}.bad{color:#b42318}details{margin:6px 0}summary{cursor:pointer}code{background:#f0f2f5;padding:1px 4px;border-radius:4px}");
        html.AppendLine("</style></head><body><main>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<h1>{E(result.Dataset)}</h1>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<p class=\"sub\">{E(result.Task.ToString())} · model <b>{E(result.ModelId)}</b> · {result.Users} users ({result.People} people) · {result.Queries} queries · K = {result.RetrievalCount} · {result.Elapsed.TotalSeconds:0.0} s</p>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<p class=\"note\">{E(EvaluationReportWriter.QualityNote)} {E(EvaluationReportWriter.Spent(result))}</p>");
        if (result.Skipped.Count > 0)
        {
            html.AppendLine("<p class=\"note\"><b>Not run:</b> ");
            html.AppendLine(string.Join("; ", result.Skipped.GroupBy(s => s.Reason, StringComparer.Ordinal).Select(g => string.Join(", ", g.Select(s => $"<code>{E(s.Name)}</code>")) + ": " + E(g.Key))));
            html.AppendLine("</p>");
        }

        html.AppendLine("<h2>Metrics by method</h2><div class=\"cards\">");
        foreach (string metric in metrics)
        {
            html.AppendLine(CultureInfo.InvariantCulture, $"<div class=\"card\"><b>{E(metric)}</b> <span class=\"sub\">({(MetricSet.LowerIsBetter(metric) ? "lower is better" : "higher is better")})</span>");
            html.AppendLine(BarChart("metric-" + metric, [.. result.Methods.Select(m => (m.Name, m.Metrics.Values[metric]))], v => v.ToString("0.000", CultureInfo.InvariantCulture), MetricSet.LowerIsBetter(metric), metric is LampMetrics.Mae or LampMetrics.Rmse ? null : 1.0));
            html.AppendLine("</div>");
        }

        html.AppendLine("</div>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<h2>Cost per method</h2><p class=\"sub\">At {EvaluationReportWriter.Money(result.Prices.InputPerMillion)} / {EvaluationReportWriter.Money(result.Prices.OutputPerMillion)} per million input / output tokens; a method's cost counts every call it needs, cached or not.</p><div class=\"cards\">");
        html.AppendLine("<div class=\"card\"><b>build cost per user</b>");
        html.AppendLine(BarChart("cost-build", [.. result.Methods.Select(m => (m.Name, (double)m.BuildCostPerUser(result.Prices)))], v => EvaluationReportWriter.Money((decimal)v), lowerIsBetter: true, null));
        html.AppendLine("</div><div class=\"card\"><b>cost per query</b>");
        html.AppendLine(BarChart("cost-query", [.. result.Methods.Select(m => (m.Name, (double)m.CostPerQuery(result.Prices)))], v => EvaluationReportWriter.Money((decimal)v), lowerIsBetter: true, null));
        html.AppendLine("</div></div>");

        html.AppendLine("<h2>Table</h2><table><thead><tr><th>method</th>");
        foreach (string metric in metrics)
        {
            html.Append(CultureInfo.InvariantCulture, $"<th>{E(metric)}</th>");
        }

        html.AppendLine("<th>invalid</th><th>failed</th><th>build calls / user</th><th>build tokens / user</th><th>calls / query</th><th>tokens / query</th><th>total cost</th></tr></thead><tbody>");
        foreach (MethodResult m in result.Methods)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td title=\"{E(m.Description)}\">{E(m.Name)}</td>");
            foreach (string metric in metrics)
            {
                double value = m.Metrics.Values[metric];
                bool best = result.Methods.Count > 1 && value == (MetricSet.LowerIsBetter(metric) ? result.Methods.Min(x => x.Metrics.Values[metric]) : result.Methods.Max(x => x.Metrics.Values[metric]));
                html.Append(CultureInfo.InvariantCulture, $"<td{(best ? " class=\"best\"" : string.Empty)}>{value:0.000}</td>");
            }

            var (bc, bi, bo) = m.BuildPerUser;
            var (qc, qi, qo) = m.PerQuery;
            html.AppendLine(CultureInfo.InvariantCulture, $"<td>{m.Metrics.InvalidAnswers}</td><td>{m.FailedQueries}</td><td>{bc:0.#}</td><td>{bi + bo:N0}</td><td>{qc:0.#}</td><td>{qi + qo:N0}</td><td>{EvaluationReportWriter.Money(m.TotalUsage.Cost(result.Prices))}</td></tr>");
        }

        html.AppendLine("</tbody></table>");
        html.AppendLine("<ul class=\"sub\">");
        foreach (MethodResult m in result.Methods)
        {
            html.AppendLine(CultureInfo.InvariantCulture, $"<li><code>{E(m.Name)}</code>: {E(m.Description)}</li>");
        }

        html.AppendLine("</ul>");

        MethodResult? explained = result.Methods.FirstOrDefault(m => m.Name == "rpm" && m.Explanations.Count > 0)
            ?? result.Methods.FirstOrDefault(m => m.Explanations.Any(e => e.Rationale is not null));
        if (explained is not null)
        {
            html.AppendLine(CultureInfo.InvariantCulture, $"<h2>Why it answered: <code>{E(explained.Name)}</code> on {explained.Explanations.Count} queries</h2>");
            if (explained.Name != "rpm")
            {
                html.AppendLine("<p class=\"sub\">RPM did not run, so the rationales below are those of the first method that gives one.</p>");
            }

            foreach (QueryExplanation q in explained.Explanations)
            {
                bool correct = string.Equals(q.Answer.Trim(), q.Gold.Trim(), StringComparison.Ordinal);
                html.AppendLine("<div class=\"card\" style=\"margin:12px 0\">");
                html.AppendLine(CultureInfo.InvariantCulture, $"<div class=\"sub\">user <b>{E(q.UserId)}</b> · query <b>{E(q.QueryId)}</b></div>");
                html.AppendLine(CultureInfo.InvariantCulture, $"<p>{E(EvaluationReportWriter.Shorten(q.Input, 600))}</p>");
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
                        html.AppendLine(CultureInfo.InvariantCulture, $"<div class=\"sub\">similarity {ex.Similarity:0.000} · the user answered <b>{E(ex.Answer)}</b></div>");
                        html.AppendLine(CultureInfo.InvariantCulture, $"<div>{E(EvaluationReportWriter.Shorten(ex.Input, 400))}</div>");
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
        }

        html.AppendLine("<p class=\"sub\">Files: <code>metrics.json</code>, <code>report.md</code>, <code>golds.json</code>, <code>predictions/&lt;method&gt;.json</code> (LaMP outputs format; re-score any of them with <code>rpm score</code>).</p>");
        html.AppendLine("</main></body></html>");
        return html.ToString();
    }

    /// <summary>An inline SVG horizontal bar chart, best value highlighted.</summary>
    private static string BarChart(string id, IReadOnlyList<(string Label, double Value)> bars, Func<double, string> format, bool lowerIsBetter, double? fullScale)
    {
        const int LabelWidth = 130, BarArea = 190, ValueWidth = 70, RowHeight = 26;
        int height = Math.Max(1, bars.Count) * RowHeight + 8;
        double max = fullScale ?? Math.Max(bars.Count == 0 ? 0 : bars.Max(b => b.Value), 1e-12);
        double best = bars.Count == 0 ? 0 : lowerIsBetter ? bars.Min(b => b.Value) : bars.Max(b => b.Value);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg id=\"{E(id)}\" role=\"img\" aria-label=\"{E(id)}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {LabelWidth + BarArea + ValueWidth} {height}\" width=\"100%\">");
        for (int i = 0; i < bars.Count; i++)
        {
            var (label, value) = bars[i];
            double width = max <= 0 ? 0 : Math.Clamp(value / max, 0, 1) * BarArea;
            int y = (i * RowHeight) + 4;
            string color = bars.Count > 1 && value == best ? "#0b6e4f" : "#4c6ef5";
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth - 6}\" y=\"{y + 15}\" text-anchor=\"end\" font-size=\"12\" fill=\"#1d2430\">{E(label)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{LabelWidth}\" y=\"{y + 3}\" width=\"{BarArea}\" height=\"16\" fill=\"#eef0f4\" rx=\"3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{LabelWidth}\" y=\"{y + 3}\" width=\"{width:0.##}\" height=\"16\" fill=\"{color}\" rx=\"3\"><title>{E(label)}: {E(format(value))}</title></rect>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth + BarArea + 6}\" y=\"{y + 15}\" font-size=\"12\" fill=\"#1d2430\">{E(format(value))}</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
