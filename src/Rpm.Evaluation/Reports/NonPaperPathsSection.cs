using System.Globalization;
using System.Net;
using System.Text;

namespace Rpm.Evaluation;

/// <summary>
/// The report's section "Where the build did not follow the paper" (<see cref="MethodResult.NonPaperPaths"/>), in
/// Markdown and HTML: one row per departure, one column per method that builds user models (methods whose totals are
/// equal, as RPM's forms that share one build are, share a column). Methods that build no model are left out.
/// </summary>
internal static class NonPaperPathsSection
{
    /// <summary>The section's title.</summary>
    public const string Title = "Where the build did not follow the paper";

    private const string Intro = "Totalled over the users each method built a model for: the places where a chat model's answer needed a repair, or a deterministic rule stood in for its judgment, instead of the paper's path. A share or count of 0 is the paper's path.";

    // Each row: its label, its cell and the sentence that says what it means.
    private static readonly (string Label, Func<BuildTotals, string> Cell, string Meaning)[] Rows =
    [
        ("users built", t => Count(t.Users), "users whose model was built (a failed build is listed among the failures instead)."),
        ("factors from rules", t => Share(t.UsersWithFactorsFromRules, t.Users, t.UsersWithFactorsFromRulesShare), "share of users whose factor answer could not be used (invalid after the repair, or refused), so that their factors were formed by rule from the categories suggested in stage 1."),
        ("features assigned by rule", t => Share(t.FeaturesAssignedByRule, t.Features, t.FeaturesAssignedByRuleShare), "share of the features (distinct per user, in the user's reasoning paths) that the factor answer left out or was not shown, assigned to a factor by rule; the features of a user whose factors came from rules are not counted here."),
        ("items excluded", t => Share(t.ItemsExcluded, t.HistoryItems, t.ItemsExcludedShare), "share of the history items left out because the model refused them or a content filter stopped them: they count in no statistic or have no reasoning path."),
        ("judgments left unknown", t => Count(t.JudgmentsLeftUnknown), "influence judgments (generation tasks) the model left out even after the repair turn; they stay unknown and count in no statistic."),
        ("answers repaired", t => Count(t.AnswersRepaired), "build answers that were invalid at first and fixed by the one repair turn."),
        ("answers read from reasoning", t => Count(t.AnswersReadFromReasoning), "build answers whose text was empty and that were read from the response's reasoning field instead."),
        ("reasoning paths ungrounded", t => Share(t.UngroundedPaths, t.ReasoningPaths, t.UngroundedPathsShare), "our addition to the paper (README, \"Grounded reasoning paths\"): share of the reasoning paths whose citations, numbers or factor names still did not match the statistics shown after the one repair turn; they are kept. The grounding share is 100% minus this."),
        ("rationales ungrounded", t => Share(t.UngroundedRationales, t.Rationales, t.UngroundedRationalesShare), "our addition to the paper, as for the reasoning paths: share of the chat model's rationales (stage 7, the answers to the queries) whose citations, numbers or factor names still did not match the statistics shown after the one repair turn; the answer is kept and scored."),
    ];

    public static void Markdown(StringBuilder md, EvaluationResult result)
    {
        List<(string Methods, BuildTotals Totals)> columns = Columns(result);
        if (columns.Count == 0)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## {Title}");
        md.AppendLine();
        md.AppendLine(Intro);
        md.AppendLine();
        md.AppendLine("| |" + string.Concat(columns.Select(c => $" {c.Methods} |")));
        md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", columns.Count)));
        foreach (var (label, cell, _) in Rows)
        {
            md.AppendLine($"| {label} |" + string.Concat(columns.Select(c => $" {cell(c.Totals)} |")));
        }

        md.AppendLine();
        foreach (var (label, _, meaning) in Rows)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {label}: {meaning}");
        }
    }

    public static void Html(StringBuilder html, EvaluationResult result)
    {
        List<(string Methods, BuildTotals Totals)> columns = Columns(result);
        if (columns.Count == 0)
        {
            return;
        }

        html.AppendLine(CultureInfo.InvariantCulture, $"<section id=\"non-paper\"><h2>{E(Title)}</h2><p class=\"sub\">{E(Intro)}</p>");
        html.AppendLine("<table><thead><tr><th></th>" + string.Concat(columns.Select(c => $"<th>{E(c.Methods)}</th>")) + "</tr></thead><tbody>");
        foreach (var (label, cell, meaning) in Rows)
        {
            html.AppendLine($"<tr><td title=\"{E(meaning)}\">{E(label)}</td>" + string.Concat(columns.Select(c => $"<td>{E(cell(c.Totals))}</td>")) + "</tr>");
        }

        html.AppendLine("</tbody></table><ul class=\"sub\">");
        foreach (var (label, _, meaning) in Rows)
        {
            html.AppendLine(CultureInfo.InvariantCulture, $"<li><b>{E(label)}</b>: {E(meaning)}</li>");
        }

        html.AppendLine("</ul></section>");
    }

    // One column per distinct totals, in method order, named by every method with those totals.
    private static List<(string Methods, BuildTotals Totals)> Columns(EvaluationResult result) =>
        [.. result.Methods.Where(m => m.NonPaperPaths is not null)
            .GroupBy(m => m.NonPaperPaths!)
            .Select(g => (string.Join(", ", g.Select(m => m.Name)), g.Key))];

    private static string Count(int count) => count.ToString("N0", CultureInfo.InvariantCulture);

    private static string Share(int part, int whole, double share) =>
        string.Create(CultureInfo.InvariantCulture, $"{share * 100:0.#}% ({part:N0} of {whole:N0})");

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
