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

/// <summary><c>rpm build</c>: one user's RPM model, saved as JSON.</summary>
internal static class BuildCommand
{
    public static Command Create(TextWriter output, TextWriter error, CliServices services)
    {
        var command = new Command("build", "Build one user's RPM model (2N + 1 calls, or 2⌈N/B⌉ + 1 with --batch-size B; cached) and save it as JSON.");
        AddDataOptions(command, manyUsers: false);
        AddModelOptions(command);
        foreach (Option option in new Option[] { UserOption, OutOption, CacheOption, KOption, BatchSizeOption, PriceInOption, PriceOutOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, ct) => Guard(error, async () =>
        {
            EvaluationDataset dataset = await LoadDataAsync(parse, ct).ConfigureAwait(false);
            EvaluationUser user = FindUser(dataset, parse.GetValue(UserOption));
            EndpointSettings settings = ResolveEndpoint(parse, services);
            string outPath = parse.GetValue(OutOption) ?? Path.Combine("rpm-output", "users", Slug(user.Id) + ".json");
            string cache = parse.GetValue(CacheOption) ?? Path.Combine("rpm-output", "answers.sqlite");
            RunPrices prices = PricesFor(parse, settings);
            CheckWritableFile(outPath, "--out");
            CheckWritableFolder(Path.GetDirectoryName(Path.GetFullPath(cache))!, "--cache");
            await CheckCacheFreeAsync(cache, ct).ConfigureAwait(false);
            var printer = new ProgressPrinter(error, ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected);
            string? reason = await services.Probe(settings, ct).ConfigureAwait(false)
                ?? await PreflightAsync(services, settings, printer, parse, ct).ConfigureAwait(false);
            IChatClient endpointClient = services.CreateChatClient(settings, printer.Retry);
            if (reason is not null)
            {
                endpointClient.Dispose();
                if (settings.Endpoint is not null)
                {
                    error.WriteLine($"Model error: {reason}");
                    return ModelFailure;
                }

                output.WriteLine($"No chat model: {reason}");
                output.WriteLine("rpm build needs a chat model to extract features, factors and reasoning paths.");
                output.WriteLine(EndpointSettings.HowToEnable);
                return NoModel;
            }

            var meter = new UsageMeter();
            var sent = new UsageMeter();
            await using SqliteResponseStore store = await services.OpenAnswerCache(cache, ct).ConfigureAwait(false);
            using IChatClient chat = endpointClient.AsBuilder()
                .UseUsageMetering(null, meter)
                .UseAnswerCache(store, RpmMethod.Scope, settings.Model)
                .UseUsageMetering(Evaluation.EvaluationTokenizer.O200kBase, sent)
                .Build();
            using IEmbeddingGenerator<string, Embedding<float>> embeddings = services.CreateEmbeddingGenerator(settings);
            var pipeline = new RpmPipeline(chat, embeddings, RpmOptionsFor(parse, settings));
            int batch = parse.GetValue(BatchSizeOption);
            int calls = (2 * ((user.History.Count + batch - 1) / batch)) + 1;
            output.WriteLine($"Building the model of user {user.Id} from {user.History.Count} history items ({calls} calls{(batch > 1 ? $", {batch} items a call" : string.Empty)}, cached in {cache})...");
            UserModel model;
            try
            {
                model = await pipeline.BuildUserModelAsync(user.Id, dataset.Task, user.History, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (StorageWriteException.Find(ex) is StorageWriteException failure)
            {
                // Counted once the build has stopped: calls in flight when the disk filled may have lost their answers too.
                throw failure.WithCounts(store.SavedThisRun, store.FailedWrites);
            }

            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
                await File.WriteAllBytesAsync(outPath, RpmJson.SerializeUserModel(model), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return ReportResultWriteFailure(error, ex, $"the user model '{Path.GetFullPath(outPath)}'", Path.GetDirectoryName(Path.GetFullPath(outPath))!, cache);
            }

            PrintModel(output, model);
            output.WriteLine($"Build diagnostics: {model.Diagnostics}.");
            output.WriteLine($"Grounding: {ReportFormat.Grounding(model)}.");
            UsageTotals usage = meter.Snapshot();
            UsageTotals paid = sent.Snapshot();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Cost of this run: {paid.Calls} calls sent{CacheNote(usage, cache)}, {paid.InputTokens:N0} input + {paid.OutputTokens:N0} output tokens, {(prices.Prices is null ? prices.Line : Money(paid.Cost(prices.Prices)))}. The model's build: {model.BuildUsage.Calls} calls in all."));
            output.WriteLine($"User model: {Path.GetFullPath(outPath)}");
            return 0;
        }));
        return command;
    }
}
