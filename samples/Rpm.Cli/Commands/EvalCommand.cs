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

/// <summary><c>rpm eval</c>: run methods over the users of a data set and write predictions, metrics and reports.</summary>
internal static class EvalCommand
{
    public static Command Create(TextWriter output, TextWriter error, CliServices services)
    {
        var command = new Command("eval", "Run methods over the users of a data set and write predictions, metrics.json, report.md and report.html.");
        AddDataOptions(command);
        AddModelOptions(command);
        foreach (Option option in new Option[] { MethodsOption, OutOption, CacheOption, ConcurrencyOption, KOption, BatchSizeOption, PriceInOption, PriceOutOption })
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
            EndpointSettings settings = ResolveEndpoint(parse, services);
            string outFolder = parse.GetValue(OutOption) ?? Path.Combine("rpm-output", Slug(dataset.Name));
            string cache = parse.GetValue(CacheOption) ?? Path.Combine(outFolder, "answers.sqlite");
            RunPrices prices = PricesFor(parse, settings);

            // Everything that can fail without a model fails before the first call is paid for.
            CheckWritableFolder(outFolder, "--out");
            using FileStream folderLock = LockFolder(outFolder);
            if (methods.Any(m => m.RequiresChatModel) && settings.Endpoint is not null)
            {
                CheckWritableFolder(Path.GetDirectoryName(Path.GetFullPath(cache))!, "--cache");
                await CheckCacheFreeAsync(cache, ct).ConfigureAwait(false);
            }

            if (settings.Endpoint is null && methods.All(m => m.RequiresChatModel))
            {
                error.WriteLine("No chat model: every method asked for (" + string.Join(", ", methods.Select(m => m.Name)) + ") needs one, and no endpoint is set.");
                error.WriteLine(EndpointSettings.HowToEnable);
                return NoModel;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Data: {EvaluationReportWriter.Title(dataset.Name, dataset.Task)}; {EvaluationReportWriter.Units(dataset.Users.Count, dataset.PersonCount)}, {dataset.QueryCount} queries."));
            if (parse.GetValue(UsersOption) is int asked && asked > dataset.PersonCount)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--users {asked}: the data has {dataset.PersonCount} people, so all of them are used."));
            }

            var printer = new ProgressPrinter(error, ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected);
            IChatClient? chat = null;
            string? unavailable = null;
            if (methods.Any(m => m.RequiresChatModel))
            {
                unavailable = await services.Probe(settings, ct).ConfigureAwait(false);
                if (unavailable is null)
                {
                    unavailable = await PreflightAsync(services, settings, printer, parse, ct).ConfigureAwait(false);
                    chat = unavailable is null ? services.CreateChatClient(settings, printer.Retry) : null;
                }

                if (unavailable is null)
                {
                    output.WriteLine($"Model: {settings.Model} at {settings.Endpoint} (answered a test request); answers cached in {cache}.");
                    output.WriteLine(prices.Line + ".");
                }
                else if (settings.Endpoint is not null)
                {
                    // An endpoint the user gave that fails is an error, not a reason to quietly run something else.
                    error.WriteLine($"Model error: {unavailable}");
                    error.WriteLine("Nothing was run. Fix the endpoint (or drop --endpoint / RPM_ENDPOINT / RPM_API_KEY to run only the model-free methods).");
                    return ModelFailure;
                }
                else
                {
                    output.WriteLine($"No chat model: {unavailable}");
                    output.WriteLine("Skipping the methods that need one (" + string.Join(", ", methods.Where(m => m.RequiresChatModel).Select(m => m.Name)) + "); running the model-free ones.");
                    output.WriteLine(EndpointSettings.HowToEnable);
                }
            }

            using IEmbeddingGenerator<string, Embedding<float>> embeddings = services.CreateEmbeddingGenerator(settings);
            var runner = new EvaluationRunner(new EvaluationRunnerOptions
            {
                MaxConcurrency = parse.GetValue(ConcurrencyOption),
                RetrievalCount = parse.GetValue(KOption),
                BatchSize = parse.GetValue(BatchSizeOption),
                ModelId = settings.Model,
                CachePath = cache,
                OpenAnswerCache = services.OpenAnswerCache,
                Prices = prices.Prices,
                ChatOptions = new ChatOptions { ModelId = settings.Model, Temperature = (float)parse.GetValue(TemperatureOption) },
                UseJsonSchemaResponseFormat = !parse.GetValue(JsonModeOption),
                UseStrictJsonSchema = !parse.GetValue(NoStrictOption),
                ChatModelUnavailableReason = unavailable ?? "no chat model endpoint was given.",
            });

            EvaluationResult result;
            try
            {
                result = await runner.RunAsync(dataset, methods, chat, embeddings, printer, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                error.WriteLine();
                error.WriteLine(chat is null
                    ? "Interrupted. No model was called, so nothing was paid for; run the same command again to start over."
                    : $"Interrupted. Every answer received so far is in {cache}: run the same command again to resume without paying for them twice.");
                return Interrupted;
            }
            finally
            {
                chat?.Dispose();
            }

            ReportFiles files;
            try
            {
                files = await EvaluationReportWriter.WriteFilesAsync(result, outFolder, ct).ConfigureAwait(false);
                await WriteTaskFileAsync(dataset.Task, Path.Combine(outFolder, EvaluationDataLoader.TaskFileName), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return ReportResultWriteFailure(error, ex, $"the report in '{Path.GetFullPath(outFolder)}'", outFolder, cache);
            }

            output.WriteLine();
            output.Write(EvaluationReportWriter.RenderMarkdown(result));
            output.WriteLine();
            output.WriteLine($"Report: {files.Html}");
            output.WriteLine($"Also: {files.Markdown}, {files.Metrics}, predictions in {Path.Combine(files.Folder, "predictions")}");

            List<MethodResult> failed = [.. result.Methods.Where(m => m.FailedQueries > 0)];
            foreach (MethodResult m in failed)
            {
                MethodFailure first = m.Failures[0];
                error.WriteLine($"Model error: {m.Name} failed {m.FailedQueries} of {m.Queries} queries (scored as wrong), e.g. user {first.UserId}{(first.QueryId is null ? " (the build)" : $", query {first.QueryId}")}: {first.Message}");
            }

            if (failed.Count > 0)
            {
                error.WriteLine($"Answers that arrived are kept in {cache}; run the same command again to retry exactly the failed calls.");
                return ModelFailure;
            }

            return 0;
        }));
        return command;
    }
}
