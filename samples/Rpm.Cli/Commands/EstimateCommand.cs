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

/// <summary><c>rpm estimate</c>: the calls, tokens and cost of a run, offline.</summary>
internal static class EstimateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("estimate", "Estimate the calls, tokens and cost of building and answering for a data set, offline, before spending anything.");
        AddDataOptions(command);
        foreach (Option option in new Option[] { MethodsOption, KOption, BatchSizeOption, PriceInOption, PriceOutOption })
        {
            command.Options.Add(option);
        }

        foreach (Option option in CliOptions.FermiKnobs)
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, ct) => Guard(error, async () =>
        {
            EvaluationDataset dataset = await LoadDataAsync(parse, ct).ConfigureAwait(false);
            IReadOnlyList<IEvaluationMethod> methods = ParseMethods(parse.GetValue(MethodsOption), FermiOptionsFor(parse));
            // An estimate has no endpoint: without prices it is priced at the paper's backbone, and says so.
            bool given = parse.GetValue(PriceInOption) is not null || parse.GetValue(PriceOutOption) is not null;
            RunPrices resolved = given
                ? PriceTable.Resolve(parse.GetValue(PriceInOption), parse.GetValue(PriceOutOption), null, "(given)")
                : PriceTable.Resolve(null, null, EndpointSettings.OpenAIEndpoint, "gpt-4o-mini");
            TokenPrices prices = resolved.Prices!;
            IReadOnlyList<MethodEstimate> estimates = await new CostEstimator().EstimateAsync(dataset, methods, parse.GetValue(KOption), parse.GetValue(BatchSizeOption), ct).ConfigureAwait(false);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Estimate for {EvaluationReportWriter.Title(dataset.Name, dataset.Task)}; {EvaluationReportWriter.Units(dataset.Users.Count, dataset.PersonCount)}, {dataset.QueryCount} queries, at {resolved.Explanation}."));
            output.WriteLine("Nothing was sent anywhere: prompts were counted with the o200k_base tokenizer, output lengths are assumptions.");
            output.WriteLine();
            output.WriteLine("| method | build calls | build tokens (in / out) | build cost | per user | query calls | query tokens (in / out) | query cost | per query | total |");
            output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (MethodEstimate e in estimates)
            {
                decimal build = e.Build.Cost(prices), query = e.Query.Cost(prices);
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {e.Method} | {e.Build.Calls:N0} | {e.Build.InputTokens:N0} / {e.Build.OutputTokens:N0} | {Money(build)} | {Money(e.Users == 0 ? 0 : build / e.Users)} | {e.Query.Calls:N0} | {e.Query.InputTokens:N0} / {e.Query.OutputTokens:N0} | {Money(query)} | {Money(e.Queries == 0 ? 0 : query / e.Queries)} | {Money(build + query)} |"));
            }

            output.WriteLine();
            foreach (MethodEstimate e in estimates)
            {
                output.WriteLine($"- {e.Method}: {e.Note}");
            }

            // Methods with one cache scope build once (rpm and rpm-fallback share RPM's user models; pag and pag-cot their
            // summaries): a run pays for each shared build once, and so does the total.
            var scopes = methods.ToDictionary(m => m.Name, m => m.CacheScope, StringComparer.OrdinalIgnoreCase);
            UsageTotals builds = estimates.GroupBy(e => scopes[e.Method], StringComparer.Ordinal).Select(g => g.First().Build).Aggregate(UsageTotals.Zero, (sum, b) => sum + b);
            UsageTotals queries = estimates.Select(e => e.Query).Aggregate(UsageTotals.Zero, (sum, q) => sum + q);

            // RPM's ablations also send rpm's own stage-5 call per query (the same prompt, in the same scope): counted once.
            foreach (var group in estimates.GroupBy(e => scopes[e.Method], StringComparer.Ordinal))
            {
                foreach (MethodEstimate repeat in group.Where(e => e.SharedQuery.Calls > 0).Skip(1))
                {
                    UsageTotals once = repeat.SharedQuery;
                    queries = queries with { Calls = queries.Calls - once.Calls, InputTokens = queries.InputTokens - once.InputTokens, OutputTokens = queries.OutputTokens - once.OutputTokens };
                }
            }
            foreach (var shared in estimates.GroupBy(e => scopes[e.Method], StringComparer.Ordinal).Where(g => g.Count() > 1 && g.First().Build.Calls > 0))
            {
                output.WriteLine($"- {string.Join(" and ", shared.Select(e => e.Method))} share one build; the total counts it once.");
            }

            if (estimates.Count(e => e.SharedQuery.Calls > 0) > 1)
            {
                output.WriteLine($"- {string.Join(" and ", estimates.Where(e => e.SharedQuery.Calls > 0).Select(e => e.Method))} send the same stage-5 call per query; the total counts it once.");
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Total: {Money((builds + queries).Cost(prices))} for {(builds + queries).Calls:N0} calls (retries of invalid answers not included)."));
            return 0;
        }));
        return command;
    }
}
