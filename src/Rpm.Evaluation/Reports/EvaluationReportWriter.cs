using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Rpm.Evaluation;

/// <summary>
/// Writes what a run produced: predictions per method in LaMP's outputs format, the golds, <c>metrics.json</c>, a
/// Markdown table (<c>report.md</c>) and a self-contained HTML report (<c>report.html</c>) with a chart of each metric by
/// method, the cost per method, and RPM's rationale with its retrieved examples for a few queries.
/// </summary>
public static class EvaluationReportWriter
{
    /// <summary>
    /// Writes every report file into a folder: <c>report.html</c>, <c>report.md</c>, <c>metrics.json</c>,
    /// <c>golds.json</c> and <c>predictions/&lt;method&gt;.json</c> per method.
    /// </summary>
    /// <param name="result">The run's result.</param>
    /// <param name="folder">The folder; created when missing.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>A task that completes when every file is written.</returns>
    public static Task WriteAsync(EvaluationResult result, string folder, CancellationToken cancellationToken = default) =>
        WriteFilesAsync(result, folder, cancellationToken);

    // WriteAsync, with the paths written (the rpm tool prints them).
    internal static async Task<ReportFiles> WriteFilesAsync(EvaluationResult result, string folder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        string predictions = Path.Combine(folder, "predictions");
        Directory.CreateDirectory(predictions);
        var predictionFiles = new List<string>();
        foreach (MethodResult method in result.Methods)
        {
            string file = Path.Combine(predictions, method.Name + ".json");
            await method.Predictions.WriteAsync(file, cancellationToken).ConfigureAwait(false);
            predictionFiles.Add(file);
        }

        string golds = Path.Combine(folder, "golds.json");
        await result.Golds.WriteAsync(golds, cancellationToken).ConfigureAwait(false);
        string metrics = Path.Combine(folder, "metrics.json");
        await File.WriteAllTextAsync(metrics, RenderJson(result), cancellationToken).ConfigureAwait(false);
        string markdown = Path.Combine(folder, "report.md");
        await File.WriteAllTextAsync(markdown, RenderMarkdown(result), cancellationToken).ConfigureAwait(false);
        string html = Path.Combine(folder, "report.html");
        await File.WriteAllTextAsync(html, RenderHtml(result), cancellationToken).ConfigureAwait(false);
        return new ReportFiles(folder, metrics, markdown, html, golds, predictionFiles);
    }

    /// <summary>Renders <c>metrics.json</c>.</summary>
    /// <param name="result">The run's result.</param>
    /// <returns>The JSON text.</returns>
    public static string RenderJson(EvaluationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        TokenPrices? prices = result.Prices;
        var report = new EvaluationReport
        {
            Dataset = result.Dataset,
            Task = result.Task.Name,
            Kind = result.Task.Kind.ToString(),
            Model = result.ModelId,
            Users = result.Users,
            People = result.People,
            Queries = result.Queries,
            RetrievalCount = result.RetrievalCount,
            BatchSize = result.BatchSize,
            Prices = prices is null ? null : new PricesReport { InputPerMillion = prices.InputPerMillion, OutputPerMillion = prices.OutputPerMillion },
            Spent = UsageReport.From(result.Spent, prices),
            ElapsedSeconds = Math.Round(result.Elapsed.TotalSeconds, 2),
            Note = Note(result),
            Comparisons = [.. result.Comparisons],
            IntervalLevel = result.Methods.SelectMany(m => m.Intervals.Values).FirstOrDefault()?.Level,
            Skipped = [.. result.Skipped.Select(s => new SkippedReport { Name = s.Name, Reason = s.Reason })],
            Methods =
            [
                .. result.Methods.Select(m => new MethodReport
                {
                    Name = m.Name,
                    Description = m.Description,
                    UsesChatModel = m.UsesChatModel,
                    Metrics = m.Metrics.Values.ToDictionary(v => v.Key, v => Math.Round(v.Value, 6), StringComparer.Ordinal),
                    Count = m.Metrics.Count,
                    Intervals = m.Intervals.ToDictionary(v => v.Key, v => new[] { Math.Round(v.Value.Lower, 6), Math.Round(v.Value.Upper, 6) }, StringComparer.Ordinal),
                    InvalidAnswers = m.Metrics.InvalidAnswers,
                    FailedQueries = m.FailedQueries,
                    Build = UsageReport.From(m.BuildUsage, prices),
                    BuildPerUser = Mean(m.BuildPerUser, prices is null ? null : m.BuildCostPerUser(prices)),
                    Query = UsageReport.From(m.QueryUsage, prices),
                    PerQuery = Mean(m.PerQuery, prices is null ? null : m.CostPerQuery(prices)),
                    Predictions = $"predictions/{m.Name}.json",
                    Failures = m.Failures.Count == 0 ? null : [.. m.Failures.Take(20)],
                    Tuning = m.Tuning,
                    NonPaperPaths = m.NonPaperPaths is null ? null : NonPaperPathsReport.From(m.NonPaperPaths),
                }),
            ],
        };
        return JsonSerializer.Serialize(report, EvaluationJsonContext.Default.EvaluationReport);
    }

    /// <summary>Renders the Markdown report (also what <c>rpm eval</c> prints): each metric with its interval, RPM against the best baseline, costs when anything was spent, and what RPM built for a few users.</summary>
    /// <param name="result">The run's result.</param>
    /// <returns>The Markdown text.</returns>
    public static string RenderMarkdown(EvaluationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        IReadOnlyList<string> metrics = LampMetrics.For(result.Task.Kind);
        bool spent = AnythingSpent(result);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# {Title(result.Dataset, result.Task)}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Model: **{result.ModelId}**. {Units(result.Users, result.People)}, {ReportFormat.Noun(result.Queries, "query", "queries")}, K = {result.RetrievalCount}{(result.BatchSize > 1 ? $", RPM's builds batched {result.BatchSize} history items a call" : string.Empty)}. ");
        if (spent)
        {
            md.AppendLine(result.Prices is TokenPrices prices
                ? string.Create(CultureInfo.InvariantCulture, $"Prices: {ReportFormat.Money(prices.InputPerMillion)} / {ReportFormat.Money(prices.OutputPerMillion)} per million input / output tokens. ")
                : "Prices: unknown (none were given for this model), so every cost is unknown. ");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"{Spent(result)} Elapsed {result.Elapsed.TotalSeconds:0.0} s.");
        md.AppendLine();
        md.Append("| method |");
        foreach (string metric in metrics)
        {
            md.Append(CultureInfo.InvariantCulture, $" {metric}{(MetricSet.LowerIsBetter(metric) ? " ↓" : " ↑")} |");
        }

        md.AppendLine(spent
            ? " n | invalid | failed | build calls / user | build tokens / user | build cost / user | calls / query | tokens / query | cost / query |"
            : " n | invalid | failed |");
        md.Append("|---|");
        md.Append(string.Concat(Enumerable.Repeat("---:|", metrics.Count)));
        md.AppendLine(spent ? "---:|---:|---:|---:|---:|---:|---:|---:|---:|" : "---:|---:|---:|");
        var best = metrics.ToDictionary(m => m, m => ClearlyBest(result, m), StringComparer.Ordinal);
        foreach (MethodResult m in result.Methods)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {m.Name} |");
            foreach (string metric in metrics)
            {
                string value = m.Intervals.TryGetValue(metric, out ConfidenceInterval? ci) ? ReportFormat.Interval(ci) : ReportFormat.Metric(m.Metrics.Values[metric]);
                md.Append(best[metric] == m.Name ? $" **{value}** |" : $" {value} |");
            }

            md.Append(CultureInfo.InvariantCulture, $" {m.Metrics.Count:N0} | {m.Metrics.InvalidAnswers:N0} | {m.FailedQueries:N0} |");
            if (spent)
            {
                var (bc, bi, bo) = m.BuildPerUser;
                var (qc, qi, qo) = m.PerQuery;
                md.Append(CultureInfo.InvariantCulture, $" {ReportFormat.Count(bc)} | {ReportFormat.Count(bi + bo)} | {Money(result.Prices, m.BuildCostPerUser)} | {ReportFormat.Count(qc)} | {ReportFormat.Count(qi + qo)} | {Money(result.Prices, m.CostPerQuery)} |");
            }

            md.AppendLine();
        }

        md.AppendLine();
        md.AppendLine(IntervalNote(result));
        if (result.Comparisons.Count > 0)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"RPM against the best other method on each metric, on the same {result.Comparisons[0].Count:N0} queries (paired {ReportFormat.Level(result.Comparisons[0].Level)} bootstrap):");
            md.AppendLine();
            foreach (PairedDifference d in result.Comparisons)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- {d.Metric}: {d.Method} − {d.Baseline} = {ReportFormat.Difference(d)}: {Reading(d)}.");
            }
        }

        if (result.Skipped.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Not run:");
            md.AppendLine();
            foreach (var group in result.Skipped.GroupBy(s => s.Reason, StringComparer.Ordinal))
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- {string.Join(", ", group.Select(s => $"**{s.Name}**"))}: {group.Key}");
            }
        }

        TuningReport.Markdown(md, result);
        NonPaperPathsSection.Markdown(md, result);
        MethodResult? built = result.Methods.FirstOrDefault(m => m.Name == "rpm" && m.UserModels.Count > 0);
        if (built is not null)
        {
            md.AppendLine();
            md.AppendLine("## What RPM built");
            md.AppendLine();
            md.AppendLine(result.Task.Kind == RpmTaskKind.Generation
                ? "Each user's factors (largest coverage first) with the statistics the model reasons with: coverage = history items the factor touches; influence = how many of its features were judged to shape the text the user wrote, and in which direction (polarity)."
                : "Each user's factors (largest coverage first) with the statistics the model reasons with: coverage = history items the factor touches; propensity = share of those items the user answered each way.");
            foreach (UserModel model in built.UserModels)
            {
                md.AppendLine();
                md.AppendLine(CultureInfo.InvariantCulture, $"**user {model.UserId}**: {ReportFormat.Noun(model.Paths.Count, "reasoning path", "reasoning paths")}, {ReportFormat.Noun(model.Statistics.Count, "factor", "factors")}, {ReportFormat.Noun(model.UnassignedFeatureCount, "unassigned feature", "unassigned features")}; {ReportFormat.Grounding(model)}.");
                md.AppendLine();
                foreach (FactorStatistics f in model.Statistics.OrderByDescending(f => f.Coverage).ThenBy(f => f.Factor.Name, StringComparer.Ordinal))
                {
                    md.AppendLine(CultureInfo.InvariantCulture, $"- {f.Factor.Name} (coverage {f.Coverage:N0}): {ReportFormat.Statistics(model.Task, f)}");
                }
            }
        }

        md.AppendLine();
        long estimated = result.Methods.Sum(m => m.TotalUsage.EstimatedCalls);
        md.AppendLine(Note(result) + (estimated == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" The endpoint reported no token usage for {estimated:N0} calls; their tokens were counted with the o200k_base tokenizer.")));
        return md.ToString();
    }

    /// <summary>Renders the self-contained HTML report.</summary>
    /// <param name="result">The run's result.</param>
    /// <returns>The HTML text.</returns>
    public static string RenderHtml(EvaluationResult result) => HtmlReport.Render(result);

    internal static string Spent(EvaluationResult result)
    {
        long all = result.Methods.Sum(m => m.TotalUsage.Calls);
        if (all == 0 && result.Spent.Calls == 0)
        {
            // Calls that failed (the endpoint refused or was unreachable) answered nothing and are not metered: say so
            // rather than claim that nothing was attempted.
            int failed = result.Methods.Where(m => m.UsesChatModel).Sum(m => m.FailedQueries);
            return failed == 0
                ? "No model calls were made."
                : string.Create(CultureInfo.InvariantCulture, $"No model call was answered: {failed:N0} quer{(failed == 1 ? "y" : "ies")} failed at the endpoint (see the failures below), so nothing was spent.");
        }

        string sent = string.Create(CultureInfo.InvariantCulture, $"({result.Spent.InputTokens:N0} input + {result.Spent.OutputTokens:N0} output tokens, {Money(result.Prices, result.Spent.Cost)})");
        // "From the cache" only for answers an earlier run saved; an answer this run already had (rpm-fallback reading the
        // build rpm has just made, a repeated prompt) is reuse, and saved nothing an earlier run paid for.
        long earlier = result.Methods.Sum(m => m.TotalUsage.EarlierRunCalls);
        long reused = result.Methods.Sum(m => m.TotalUsage.ReusedCalls);
        string reuse = string.Create(CultureInfo.InvariantCulture, $"reused {reused:N0} answers this run had already received (methods that share a build, such as rpm and rpm-fallback, or repeated prompts)");
        if (result.Spent.Calls >= all)
        {
            return string.Create(CultureInfo.InvariantCulture, $"The methods made {all:N0} model calls, all sent to the endpoint {sent}.");
        }

        if (result.Spent.Calls == 0 && reused == 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"The methods made {all:N0} model calls, all answered from the cache: this run sent nothing to the endpoint (every answer was saved by an earlier run).");
        }

        List<string> parts = [string.Create(CultureInfo.InvariantCulture, $"this run sent {result.Spent.Calls:N0} of them to the endpoint{(result.Spent.Calls == 0 ? string.Empty : " " + sent)}")];
        if (earlier > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"answered {earlier:N0} from the cache of an earlier run"));
        }

        if (reused > 0)
        {
            parts.Add(reuse);
        }

        string list = parts.Count switch { 1 => parts[0], 2 => $"{parts[0]} and {parts[1]}", _ => $"{parts[0]}, {parts[1]} and {parts[2]}" };
        return string.Create(CultureInfo.InvariantCulture, $"The methods made {all:N0} model calls; {list}.");
    }

    /// <summary>The report's title: the data set and the task, the task's name left out when it is the data set's.</summary>
    /// <param name="dataset">The data set's name.</param>
    /// <param name="task">The task.</param>
    /// <returns>E.g. <c>movielens-ratings: rating 0.5-5.0 step 0.5</c>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    internal static string Title(string dataset, RpmTask task)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(task);
        return $"{dataset}: {TaskText(dataset, task)}";
    }

    internal static string TaskText(string dataset, RpmTask task)
    {
        string described = task.ToString();
        string prefix = task.Name + " (";
        return string.Equals(task.Name, dataset, StringComparison.Ordinal) && described.StartsWith(prefix, StringComparison.Ordinal) && described.EndsWith(')')
            ? described[prefix.Length..^1]
            : described;
    }

    /// <summary>The units evaluated, naming people only when they differ from units (a person whose history grew is evaluated once per history).</summary>
    /// <param name="units">The units (history + queries).</param>
    /// <param name="people">The distinct people.</param>
    /// <returns>E.g. <c>5 users</c> or <c>12 users (histories) of 9 people</c>.</returns>
    internal static string Units(int units, int people) => units == people
        ? string.Create(CultureInfo.InvariantCulture, $"{units:N0} {(units == 1 ? "user" : "users")}")
        : string.Create(CultureInfo.InvariantCulture, $"{units:N0} users (histories) of {people:N0} {(people == 1 ? "person" : "people")}");

    /// <summary>Where the quality numbers come from, said for this run.</summary>
    internal static string Note(EvaluationResult result) => result.Methods.Any(m => m.UsesChatModel)
        ? "Quality numbers come only from the model named here, on the users named here."
        : "Quality numbers come only from the model named here, on the users named here; this run had no model endpoint, so it scored only the model-free methods.";

    private static MeanUsageReport Mean((double Calls, double InputTokens, double OutputTokens) mean, decimal? cost) => new()
    {
        Calls = Math.Round(mean.Calls, 3),
        InputTokens = Math.Round(mean.InputTokens, 1),
        OutputTokens = Math.Round(mean.OutputTokens, 1),
        Cost = cost is decimal c ? Math.Round(c, 6) : null,
    };

    /// <summary>An amount at the run's prices, or "cost unknown" when there are none: never a price of another model.</summary>
    internal static string Money(TokenPrices? prices, Func<TokenPrices, decimal> cost) => prices is null ? "cost unknown" : ReportFormat.Money(cost(prices));

    /// <summary>Whether any method made a model call (else the reports leave out every cost).</summary>
    internal static bool AnythingSpent(EvaluationResult result) => result.Methods.Any(m => m.TotalUsage.Calls > 0) || result.Spent.Calls > 0;

    /// <summary>The method best on a metric when its interval overlaps no other method's; otherwise (or without intervals) none.</summary>
    internal static string? ClearlyBest(EvaluationResult result, string metric)
    {
        if (result.Methods.Count < 2 || result.Methods.Any(m => !m.Intervals.ContainsKey(metric)))
        {
            return null;
        }

        MethodResult best = MetricSet.LowerIsBetter(metric) ? result.Methods.MinBy(m => m.Metrics.Values[metric])! : result.Methods.MaxBy(m => m.Metrics.Values[metric])!;
        ConfidenceInterval interval = best.Intervals[metric];
        return result.Methods.Where(m => m != best).Any(m => m.Intervals[metric].Overlaps(interval)) ? null : best.Name;
    }

    /// <summary>What the brackets mean, with n, the level, the resamples and the seed.</summary>
    internal static string IntervalNote(EvaluationResult result)
    {
        ConfidenceInterval? any = result.Methods.SelectMany(m => m.Intervals.Values).FirstOrDefault();
        return any is null
            ? string.Create(CultureInfo.InvariantCulture, $"Each metric is computed on n = {ReportFormat.Noun(result.Queries, "query", "queries")}; no intervals were computed (bootstrap off), so no method is marked best.")
                + (result.Task.Kind == RpmTaskKind.Generation ? RougeNote : string.Empty)
            : string.Create(CultureInfo.InvariantCulture, $"Each metric on n = {ReportFormat.Noun(any.Count, "query", "queries")}, with its {ReportFormat.Level(any.Level)} confidence interval in brackets (percentile bootstrap over queries, seeded, so the same on every run). A method is marked best only when its interval overlaps no other method's.")
            + (result.Task.Kind == RpmTaskKind.Generation ? RougeNote : string.Empty);
    }

    // LaMP's evaluator reports rouge_score's BootstrapAggregator median (unseeded), an estimate of the same mean.
    private const string RougeNote = " ROUGE-1 and ROUGE-L are the mean over queries of each query's rouge_score F-measure (lower-case [a-z0-9]+ tokens, no stemming); LaMP's evaluator reports rouge_score's BootstrapAggregator median instead, a random estimate of that mean.";

    /// <summary>How to read a paired difference, in words.</summary>
    internal static string Reading(PairedDifference d) =>
        d.MethodIsBetter ? $"{d.Method} is better at {ReportFormat.Level(d.Level)}"
        : d.MethodIsWorse ? $"{d.Method} is worse at {ReportFormat.Level(d.Level)}"
        : $"no clear difference at {ReportFormat.Level(d.Level)} (the interval includes 0)";

    internal static string Shorten(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 3), "...");

}
