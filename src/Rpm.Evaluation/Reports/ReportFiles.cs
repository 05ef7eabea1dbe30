namespace Rpm.Evaluation;

/// <summary>The files a report run wrote.</summary>
/// <param name="Folder">The output folder (absolute).</param>
/// <param name="Metrics">metrics.json.</param>
/// <param name="Markdown">report.md.</param>
/// <param name="Html">report.html.</param>
/// <param name="Golds">golds.json, the evaluated golds in LaMP's outputs format.</param>
/// <param name="Predictions">One predictions file per method.</param>
internal sealed record ReportFiles(string Folder, string Metrics, string Markdown, string Html, string Golds, IReadOnlyList<string> Predictions);
