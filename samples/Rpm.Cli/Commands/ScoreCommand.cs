using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rpm.Evaluation;
using static Rpm.Cli.CliOptions;
using static Rpm.Cli.CliSupport;
using static Rpm.Cli.RpmCli;

namespace Rpm.Cli;

/// <summary><c>rpm score</c>: score a LaMP-format predictions file exactly as LaMP does.</summary>
internal static class ScoreCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("score", "Score a LaMP-format predictions file against a golds file, exactly as LaMP does; print the metrics and write them as JSON.");
        command.Options.Add(PredictionsOption);
        command.Options.Add(GoldsOption);
        foreach (Option option in new Option[] { TaskOption, KindOption, LabelsOption, ScaleOption, DescriptionOption, OutOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, ct) => Guard(error, async () =>
        {
            string predictionsPath = parse.GetValue(PredictionsOption)!;
            string goldsPath = parse.GetValue(GoldsOption) ?? throw new ArgumentException("--golds is required: the LaMP outputs file with the gold answers.");
            LampOutputs golds = await LampOutputs.ReadAsync(goldsPath, ct).ConfigureAwait(false);
            LampOutputs predictions = await LampOutputs.ReadAsync(predictionsPath, ct).ConfigureAwait(false);
            LampTaskSpec spec = await ResolveSpecAsync(parse, ct).ConfigureAwait(false)
                ?? await EvaluationDataLoader.ResolveSpecAsync(Path.GetDirectoryName(Path.GetFullPath(goldsPath))!, goldsPath, ct).ConfigureAwait(false);
            golds.CheckGolds(spec.Task, goldsPath);
            MetricSet metrics = LampMetrics.Score(spec.Task, golds, predictions);
            Dictionary<string, string> byId = predictions.ToDictionary();
            IReadOnlyDictionary<string, ConfidenceInterval> intervals = MetricBootstrap.ComputeIntervals(
                spec.Task, [.. golds.Items.Select(g => g.Value)], [.. golds.Items.Select(g => byId[g.Key])]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{spec.Task}: {metrics.Count:N0} answers, {metrics.InvalidAnswers:N0} not valid for the task"));
            foreach (var (name, value) in metrics.Values)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-9} {ReportFormat.Interval(intervals[name])}{(MetricSet.LowerIsBetter(name) ? "  (lower is better)" : string.Empty)}"));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  n = {metrics.Count:N0} queries; in brackets the {ReportFormat.Level(MetricBootstrap.DefaultLevel)} interval of a seeded percentile bootstrap over queries ({MetricBootstrap.DefaultResamples:N0} resamples)."));

            string outPath = parse.GetValue(OutOption) ?? Path.ChangeExtension(predictionsPath, ".metrics.json");
            CheckWritableFile(outPath, "--out");
            await File.WriteAllTextAsync(outPath, JsonSerializer.Serialize(metrics, CliJsonContext.Default.MetricSet), ct).ConfigureAwait(false);
            output.WriteLine($"Metrics: {Path.GetFullPath(outPath)}");
            return 0;
        }));
        return command;
    }
}
