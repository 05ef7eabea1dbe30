using System.Globalization;
using System.Net;
using System.Text;

namespace Rpm.Evaluation;

/// <summary>The report's section on parameters chosen by cross-validation over people (<see cref="MethodResult.Tuning"/>), in Markdown and HTML.</summary>
internal static class TuningReport
{
    public static void Markdown(StringBuilder md, EvaluationResult result)
    {
        foreach (MethodResult m in result.Methods.Where(m => m.Tuning is not null))
        {
            CrossValidation cv = m.Tuning!;
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"## How {m.Name} chose its parameters");
            md.AppendLine();
            md.AppendLine(Intro(cv));
            if (cv.Folds.Count == 0)
            {
                continue;
            }

            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"| fold | users | queries | parameters | {cv.Metric} on the other folds | {cv.Metric} on this fold | user-prior on this fold |");
            md.AppendLine("|---:|---:|---:|---|---:|---:|---:|");
            foreach (CrossValidationFold f in cv.Folds)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {f.Index} | {f.Users:N0} | {f.Queries:N0} | {f.Parameters} | {ReportFormat.Metric(f.SelectionScore)} | {ReportFormat.Metric(f.Score)} | {ReportFormat.Metric(f.ReferenceScore)} |");
            }
        }
    }

    public static void Html(StringBuilder html, EvaluationResult result)
    {
        foreach (MethodResult m in result.Methods.Where(m => m.Tuning is not null))
        {
            CrossValidation cv = m.Tuning!;
            html.AppendLine(CultureInfo.InvariantCulture, $"<section id=\"tuning-{E(m.Name)}\"><h2>How {E(m.Name)} chose its parameters</h2><p class=\"sub\">{E(Intro(cv))}</p>");
            if (cv.Folds.Count > 0)
            {
                html.AppendLine(CultureInfo.InvariantCulture, $"<table><tr><th>fold</th><th>users</th><th>queries</th><th class=\"text\">parameters</th><th>{E(cv.Metric)} on the other folds</th><th>{E(cv.Metric)} on this fold</th><th>user-prior on this fold</th></tr>");
                foreach (CrossValidationFold f in cv.Folds)
                {
                    html.AppendLine(CultureInfo.InvariantCulture, $"<tr><td>{f.Index}</td><td>{f.Users:N0}</td><td>{f.Queries:N0}</td><td class=\"text\">{E(f.Parameters)}</td><td>{ReportFormat.Metric(f.SelectionScore)}</td><td>{ReportFormat.Metric(f.Score)}</td><td>{ReportFormat.Metric(f.ReferenceScore)}</td></tr>");
                }

                html.AppendLine("</table>");
            }

            html.AppendLine("</section>");
        }
    }

    private static string Intro(CrossValidation cv) => cv.Folds.Count == 0
        ? cv.Note ?? "Not cross-validated."
        : string.Create(CultureInfo.InvariantCulture, $"{cv.Folds.Count}-fold cross-validation over people (seed {cv.Seed}): each fold's users were answered with the parameters that scored best ({cv.Metric}) on the other folds' queries, from {cv.Grid}. No user's reported answer chose its own parameters. user-prior (the user's mean rating or most frequent answer, no parameters) is the reference on the same queries.");

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
