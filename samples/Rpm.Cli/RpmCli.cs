using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rpm.Evaluation;

namespace Rpm.Cli;

/// <summary>The <c>rpm</c> command: <c>eval</c>, <c>score</c>, <c>estimate</c>, <c>build</c> and <c>ask</c>.</summary>
public static class RpmCli
{
    /// <summary>Exit code: the command line was wrong (an unknown option, a bad value).</summary>
    public const int UsageError = 1;

    /// <summary>Exit code: a data file is malformed (the message names the file and the item).</summary>
    public const int DataError = 2;

    /// <summary>Exit code: the command needs a chat model and none is configured.</summary>
    public const int NoModel = 3;

    /// <summary>Exit code: the chat model failed: an endpoint given explicitly failed its test request, a build failed, or queries failed (a re-run retries exactly those).</summary>
    public const int ModelFailure = 4;

    /// <summary>Exit code: another rpm process holds the answer cache of this output folder.</summary>
    public const int Busy = 5;

    /// <summary>Exit code: interrupted (Ctrl+C).</summary>
    public const int Interrupted = 130;

    /// <summary>Exit code: a bug; the message says so (RPM_DEBUG=1 prints the stack trace).</summary>
    public const int InternalError = 70;

    // Data and task.
    private static readonly Option<string?> DataOption = new("--data") { Description = "A folder with a LaMP questions/outputs pair (and optionally task.json), or an opinions file (rpm-opinions/1)." };
    private static readonly Option<string?> QuestionsOption = new("--questions") { Description = "A LaMP *_questions.json file (with --golds), instead of --data." };
    private static readonly Option<string?> GoldsOption = new("--golds") { Description = "A LaMP *_outputs.json file: the golds." };
    private static readonly Option<string?> TaskOption = new("--task") { Description = "A LaMP task (LaMP-1 ... LaMP-7) or a task.json file; default: the folder's task.json, else the task named in the outputs file." };
    private static readonly Option<string?> KindOption = new("--kind") { Description = "Describe a task instead: classification, rating, generation or multiple-choice." };
    private static readonly Option<string?> LabelsOption = new("--labels") { Description = "Classification labels, comma-separated." };
    private static readonly Option<string?> ScaleOption = new("--scale") { Description = "Rating scale min:max:step, e.g. 0.5:5:0.5." };
    private static readonly Option<string[]> InputFieldOption = new("--input-field") { Description = "Profile field(s) that make a history item's input.", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<string?> OutputFieldOption = new("--output-field") { Description = "Profile field that holds the user's answer." };
    private static readonly Option<string?> DescriptionOption = new("--description") { Description = "What the user does, for the model's prompts." };
    private static readonly Option<int?> UsersOption = new("--users") { Description = "Evaluate only the first N users (people) of the data.", CustomParser = r => WholeNumber(r, "--users", minimum: 1) };

    // Model.
    private static readonly Option<string?> EndpointOption = new("--endpoint") { Description = "OpenAI-compatible base URL (env RPM_ENDPOINT), e.g. http://localhost:11434/v1." };
    private static readonly Option<string?> ModelOption = new("--model") { Description = "Chat model name (env RPM_MODEL); default gpt-4o-mini." };
    private static readonly Option<string?> ApiKeyOption = new("--api-key") { Description = "API key (env RPM_API_KEY)." };
    private static readonly Option<string?> EmbeddingEndpointOption = new("--embedding-endpoint") { Description = "OpenAI-compatible embeddings URL (env RPM_EMBEDDING_ENDPOINT); default: the local MiniLM model." };
    private static readonly Option<string?> EmbeddingModelOption = new("--embedding-model") { Description = "Embedding model name at that endpoint (env RPM_EMBEDDING_MODEL)." };
    private static readonly Option<double> TemperatureOption = new("--temperature") { Description = "Sampling temperature of every call (0 to 2).", DefaultValueFactory = _ => 0, CustomParser = r => Number(r, "--temperature", 0, 2) ?? 0 };
    private static readonly Option<bool> JsonModeOption = new("--json-mode") { Description = "Ask for JSON mode with the schema in the prompt, for servers that reject JSON schemas." };
    private static readonly Option<bool> NoStrictOption = new("--no-strict") { Description = "Do not ask the endpoint to enforce schemas strictly (for servers that reject \"strict\": true)." };
    private static readonly Option<int> RetryAfterCapOption = new("--retry-after-cap") { Description = "Longest Retry-After wait (seconds) honoured on a 429; a longer one fails the call.", DefaultValueFactory = _ => 60, CustomParser = r => WholeNumber(r, "--retry-after-cap", minimum: 0) ?? 60 };

    // Run and cost.
    private static readonly Option<string?> MethodsOption = new("--methods") { Description = "Comma-separated methods; default all: " + string.Join(",", EvaluationMethods.Names) + "." };
    private static readonly Option<string?> OutOption = new("--out") { Description = "Output folder (eval) or file (score, build)." };
    private static readonly Option<string?> CacheOption = new("--cache") { Description = "The answer cache file; default <out>/answers.sqlite." };
    private static readonly Option<int> ConcurrencyOption = new("--concurrency") { Description = "Users evaluated at once.", DefaultValueFactory = _ => 4, CustomParser = r => WholeNumber(r, "--concurrency", minimum: 1, maximum: 256) ?? 4 };
    private static readonly Option<int> KOption = new("--k") { Description = "K, examples retrieved per query.", DefaultValueFactory = _ => 3, CustomParser = r => WholeNumber(r, "--k", minimum: 1, maximum: 100) ?? 3 };
    private static readonly Option<decimal> PriceInOption = new("--price-in") { Description = "Price per million input tokens (default GPT-4o-mini's $0.15).", DefaultValueFactory = _ => TokenPrices.Gpt4oMini.InputPerMillion, CustomParser = r => (decimal?)Number(r, "--price-in", 0, 1_000_000) ?? TokenPrices.Gpt4oMini.InputPerMillion };
    private static readonly Option<decimal> PriceOutOption = new("--price-out") { Description = "Price per million output tokens (default GPT-4o-mini's $0.60).", DefaultValueFactory = _ => TokenPrices.Gpt4oMini.OutputPerMillion, CustomParser = r => (decimal?)Number(r, "--price-out", 0, 1_000_000) ?? TokenPrices.Gpt4oMini.OutputPerMillion };

    // Score, build, ask.
    private static readonly Option<string> PredictionsOption = new("--predictions") { Description = "A predictions file in LaMP's outputs format.", Required = true };
    private static readonly Option<string?> UserOption = new("--user") { Description = "The user (id as in the data, or the user_id); default the first." };
    private static readonly Option<string?> UserModelOption = new("--user-model") { Description = "A user model written by rpm build." };
    private static readonly Option<string?> QuestionOption = new("--question") { Description = "The question to answer (default: the user's first query in the data)." };
    private static readonly Option<string[]> OptionsOption = new("--option") { Description = "An option of a multiple-choice question (repeat).", AllowMultipleArgumentsPerToken = true };

    /// <summary>Runs the command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Where results go (standard output).</param>
    /// <param name="error">Where progress and messages go (standard error).</param>
    /// <param name="services">The outside world; <see langword="null"/> for the real one.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>
    /// The exit code: 0 success, 1 usage error, 2 data error, 3 no model for a command that needs one, 4 model failure
    /// (the endpoint given failed, a build failed or queries failed), 5 the output folder's cache is in use by another run,
    /// 70 internal error, 130 interrupted.
    /// </returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CliServices? services = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        services ??= new CliServices();
        var root = new RootCommand(
            "rpm: reasoning-level personalization (RPM) against the paper's baselines, on your model and data.\n" +
            "Exit codes: 0 success, 1 usage error, 2 data error, 3 no chat model configured, 4 model failure (re-run to retry the failed calls), 5 output folder in use by another run, 70 internal error, 130 interrupted.");
        root.Subcommands.Add(EvalCommand(output, error, services));
        root.Subcommands.Add(ScoreCommand(output, error));
        root.Subcommands.Add(EstimateCommand(output, error));
        root.Subcommands.Add(BuildCommand(output, error, services));
        root.Subcommands.Add(AskCommand(output, error, services));
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // The errors in plain words, without the whole help text after them.
            foreach (System.CommandLine.Parsing.ParseError parseError in parsed.Errors)
            {
                error.WriteLine($"Error: {parseError.Message}");
            }

            error.WriteLine($"Run 'rpm {(parsed.CommandResult.Command is RootCommand ? string.Empty : parsed.CommandResult.Command.Name + " ")}--help' for the options.");
            return UsageError;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken).ConfigureAwait(false);
    }

    private static double? Number(System.CommandLine.Parsing.ArgumentResult result, string option, double minimum, double maximum)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= minimum && value <= maximum)
        {
            return value;
        }

        result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option} must be a number from {minimum} to {maximum} (was '{text}')."));
        return null;
    }

    private static int? WholeNumber(System.CommandLine.Parsing.ArgumentResult result, string option, int minimum, int maximum = int.MaxValue)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= minimum && value <= maximum)
        {
            return value;
        }

        result.AddError(maximum == int.MaxValue
            ? string.Create(CultureInfo.InvariantCulture, $"{option} must be a whole number from {minimum} to {int.MaxValue:N0} (was '{text}').")
            : string.Create(CultureInfo.InvariantCulture, $"{option} must be a whole number from {minimum} to {maximum} (was '{text}')."));
        return null;
    }

    private static Command EvalCommand(TextWriter output, TextWriter error, CliServices services)
    {
        var command = new Command("eval", "Run methods over the users of a data set and write predictions, metrics.json, report.md and report.html.");
        AddDataOptions(command);
        AddModelOptions(command);
        foreach (Option option in new Option[] { MethodsOption, OutOption, CacheOption, ConcurrencyOption, KOption, PriceInOption, PriceOutOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, ct) => Guard(error, async () =>
        {
            EvaluationDataset dataset = await LoadDataAsync(parse, ct).ConfigureAwait(false);
            IReadOnlyList<IEvaluationMethod> methods = ParseMethods(parse.GetValue(MethodsOption));
            EndpointSettings settings = ResolveEndpoint(parse, services);
            string outFolder = parse.GetValue(OutOption) ?? Path.Combine("rpm-output", Slug(dataset.Name));
            string cache = parse.GetValue(CacheOption) ?? Path.Combine(outFolder, "answers.sqlite");

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

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Data: {dataset.Name}, {dataset.Task}: {dataset.Users.Count} users ({dataset.PersonCount} people), {dataset.QueryCount} queries."));

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
                ModelId = settings.Model,
                CachePath = cache,
                Prices = new TokenPrices(parse.GetValue(PriceInOption), parse.GetValue(PriceOutOption)),
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

            ReportFiles files = await EvaluationReportWriter.WriteAsync(result, outFolder, ct).ConfigureAwait(false);
            await WriteTaskFileAsync(dataset.Task, Path.Combine(outFolder, EvaluationDataLoader.TaskFileName), ct).ConfigureAwait(false);
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

    private static Command ScoreCommand(TextWriter output, TextWriter error)
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
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{spec.Task}: {metrics.Count} answers, {metrics.InvalidAnswers} not valid for the task"));
            foreach (var (name, value) in metrics.Values)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-9} {value:0.0000}{(MetricSet.LowerIsBetter(name) ? "  (lower is better)" : string.Empty)}"));
            }

            string outPath = parse.GetValue(OutOption) ?? Path.ChangeExtension(predictionsPath, ".metrics.json");
            CheckWritableFile(outPath, "--out");
            await File.WriteAllTextAsync(outPath, JsonSerializer.Serialize(metrics, CliJsonContext.Default.MetricSet), ct).ConfigureAwait(false);
            output.WriteLine($"Metrics: {Path.GetFullPath(outPath)}");
            return 0;
        }));
        return command;
    }

    private static Command EstimateCommand(TextWriter output, TextWriter error)
    {
        var command = new Command("estimate", "Estimate the calls, tokens and cost of building and answering for a data set, offline, before spending anything.");
        AddDataOptions(command);
        foreach (Option option in new Option[] { MethodsOption, KOption, PriceInOption, PriceOutOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, ct) => Guard(error, async () =>
        {
            EvaluationDataset dataset = await LoadDataAsync(parse, ct).ConfigureAwait(false);
            IReadOnlyList<IEvaluationMethod> methods = ParseMethods(parse.GetValue(MethodsOption));
            var prices = new TokenPrices(parse.GetValue(PriceInOption), parse.GetValue(PriceOutOption));
            IReadOnlyList<MethodEstimate> estimates = await new CostEstimator().EstimateAsync(dataset, methods, parse.GetValue(KOption), ct).ConfigureAwait(false);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Estimate for {dataset.Name}, {dataset.Task}: {dataset.Users.Count} users, {dataset.QueryCount} queries, at ${prices.InputPerMillion} / ${prices.OutputPerMillion} per million input / output tokens."));
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

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Total: {Money(estimates.Sum(e => e.Total.Cost(prices)))} for {estimates.Sum(e => e.Total.Calls):N0} calls (retries of invalid answers not included)."));
            return 0;
        }));
        return command;
    }

    private static Command BuildCommand(TextWriter output, TextWriter error, CliServices services)
    {
        var command = new Command("build", "Build one user's RPM model (2N + 1 calls, cached) and save it as JSON.");
        AddDataOptions(command);
        AddModelOptions(command);
        foreach (Option option in new Option[] { UserOption, OutOption, CacheOption, KOption, PriceInOption, PriceOutOption })
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
            await using SqliteResponseStore store = await SqliteResponseStore.OpenAsync(cache, ct).ConfigureAwait(false);
            using IChatClient chat = endpointClient.AsBuilder()
                .UseUsageMetering(null, meter)
                .UseAnswerCache(store, RpmMethod.Scope, settings.Model)
                .UseUsageMetering(Evaluation.EvaluationTokenizer.O200kBase, sent)
                .Build();
            using IEmbeddingGenerator<string, Embedding<float>> embeddings = services.CreateEmbeddingGenerator(settings);
            var pipeline = new RpmPipeline(chat, embeddings, RpmOptionsFor(parse, settings));
            output.WriteLine($"Building the model of user {user.Id} from {user.History.Count} history items ({2 * user.History.Count + 1} calls, cached in {cache})...");
            UserModel model = await pipeline.BuildUserModelAsync(user.Id, dataset.Task, user.History, ct).ConfigureAwait(false);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
            await File.WriteAllBytesAsync(outPath, RpmJson.SerializeUserModel(model), ct).ConfigureAwait(false);
            PrintModel(output, model);
            output.WriteLine($"Build diagnostics: {model.Diagnostics}.");
            UsageTotals usage = meter.Snapshot();
            UsageTotals paid = sent.Snapshot();
            var prices = new TokenPrices(parse.GetValue(PriceInOption), parse.GetValue(PriceOutOption));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Cost of this run: {paid.Calls} calls sent ({usage.CachedCalls} more answered from the cache), {paid.InputTokens:N0} input + {paid.OutputTokens:N0} output tokens = {Money(paid.Cost(prices))}. The model's build: {model.BuildUsage.Calls} calls in all."));
            output.WriteLine($"User model: {Path.GetFullPath(outPath)}");
            return 0;
        }));
        return command;
    }

    private static Command AskCommand(TextWriter output, TextWriter error, CliServices services)
    {
        var command = new Command("ask", "Answer a question as one user would, with RPM's rationale and retrieved examples (without a model: the model-free predictor).");
        AddDataOptions(command);
        AddModelOptions(command);
        foreach (Option option in new Option[] { UserOption, UserModelOption, QuestionOption, OptionsOption, CacheOption, KOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, ct) => Guard(error, async () =>
        {
            string? modelPath = parse.GetValue(UserModelOption);
            UserModel? model = modelPath is null ? null : RpmJson.DeserializeUserModel(await File.ReadAllBytesAsync(modelPath, ct).ConfigureAwait(false));
            EvaluationDataset? dataset = parse.GetValue(DataOption) is null && parse.GetValue(QuestionsOption) is null ? null : await LoadDataAsync(parse, ct).ConfigureAwait(false);
            if (model is null && dataset is null)
            {
                throw new ArgumentException("Give --user-model (from rpm build) or --data (and --user).");
            }

            EvaluationUser? user = dataset is null ? null : FindUser(dataset, parse.GetValue(UserOption) ?? model?.UserId);
            RpmTask task = model?.Task ?? dataset!.Task;
            EvaluationQuery? fromData = user?.Queries.FirstOrDefault();
            string question = parse.GetValue(QuestionOption) ?? fromData?.Input ?? throw new ArgumentException("Give --question.");
            string[] options = parse.GetValue(OptionsOption) ?? [];
            var query = new RpmQuery(question, fromData is not null && parse.GetValue(QuestionOption) is null ? fromData.Id : "question", options.Length > 0 ? options : (parse.GetValue(QuestionOption) is null ? fromData?.Options : null));
            EndpointSettings settings = ResolveEndpoint(parse, services);
            using IEmbeddingGenerator<string, Embedding<float>> embeddings = services.CreateEmbeddingGenerator(settings);
            output.WriteLine($"Question: {question}");

            var printer = new ProgressPrinter(error, ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected);
            string? reason = await services.Probe(settings, ct).ConfigureAwait(false)
                ?? await PreflightAsync(services, settings, printer, parse, ct).ConfigureAwait(false);
            IChatClient endpointClient = services.CreateChatClient(settings, printer.Retry);
            if (reason is not null && settings.Endpoint is not null)
            {
                endpointClient.Dispose();
                error.WriteLine($"Model error: {reason}");
                return ModelFailure;
            }

            if (reason is not null)
            {
                endpointClient.Dispose();
                output.WriteLine($"No chat model ({reason}): answering with the model-free predictor instead of RPM.");
                var predictor = new ModelFreePredictor(new FeatureRetriever(embeddings, RpmOptionsFor(parse, settings)), new ModelFreePredictorOptions { RetrievalCount = parse.GetValue(KOption) });
                if (!ModelFreePredictor.Supports(task))
                {
                    output.WriteLine("The model-free predictor cannot write text for a generation task.");
                    output.WriteLine(EndpointSettings.HowToEnable);
                    return NoModel;
                }

                ModelFreePrediction prediction = model is not null
                    ? await predictor.PredictAsync(model, query, null, ct).ConfigureAwait(false)
                    : predictor.Predict(task, user!.History, query, await (await DenseHistoryIndex.CreateAsync(user.History, embeddings, ct).ConfigureAwait(false)).SearchAsync(query.Input, parse.GetValue(KOption), ct).ConfigureAwait(false));
                output.WriteLine($"Answer: {prediction.Answer}");
                output.WriteLine($"Why: {prediction.Explanation}");
                foreach (HistoryNeighbor n in prediction.Neighbors)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  - similarity {n.Similarity:0.000}, answered {n.Item.Output}: {Shorten(n.Item.Input, 120)}"));
                }
            }
            else
            {
                string cache = parse.GetValue(CacheOption) ?? Path.Combine("rpm-output", "answers.sqlite");
                await using SqliteResponseStore store = await SqliteResponseStore.OpenAsync(cache, ct).ConfigureAwait(false);
                var sent = new UsageMeter();
                using IChatClient chat = endpointClient.AsBuilder()
                    .UseAnswerCache(store, RpmMethod.Scope, settings.Model)
                    .UseUsageMetering(Evaluation.EvaluationTokenizer.O200kBase, sent)
                    .Build();
                var pipeline = new RpmPipeline(chat, embeddings, RpmOptionsFor(parse, settings));
                if (model is null)
                {
                    output.WriteLine($"Building the model of user {user!.Id} first ({2 * user.History.Count + 1} calls, cached in {cache})...");
                    model = await pipeline.BuildUserModelAsync(user.Id, task, user.History, ct).ConfigureAwait(false);
                }

                RpmResponse response = await pipeline.RespondAsync(model, query, ct).ConfigureAwait(false);
                output.WriteLine($"Answer: {response.Answer}");
                output.WriteLine($"Rationale: {response.Rationale}");
                output.WriteLine("Query features: " + string.Join("; ", response.QueryFeatures.Select(f => f.ToString())));
                output.WriteLine($"Retrieved examples (K = {response.Examples.Count}):");
                foreach (RetrievedExample example in response.Examples)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  - similarity {example.Similarity:0.000}, answered {example.Path.Item.Output}: {Shorten(example.Path.Item.Input, 120)}"));
                    output.WriteLine($"    reasoning: {example.Path.Reasoning}");
                }

                UsageTotals paid = sent.Snapshot();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Cost of this run: {paid.Calls} calls sent, {paid.InputTokens:N0} + {paid.OutputTokens:N0} tokens (the answer needed {response.Usage.Calls} calls; the rest came from the cache {cache})."));
            }

            if (fromData is not null && parse.GetValue(QuestionOption) is null)
            {
                output.WriteLine($"The user's real answer: {fromData.Gold}");
            }

            return 0;
        }));
        return command;
    }

    private static void AddDataOptions(Command command)
    {
        foreach (Option option in new Option[] { DataOption, QuestionsOption, GoldsOption, TaskOption, KindOption, LabelsOption, ScaleOption, InputFieldOption, OutputFieldOption, DescriptionOption, UsersOption })
        {
            command.Options.Add(option);
        }
    }

    private static void AddModelOptions(Command command)
    {
        foreach (Option option in new Option[] { EndpointOption, ModelOption, ApiKeyOption, EmbeddingEndpointOption, EmbeddingModelOption, TemperatureOption, JsonModeOption, NoStrictOption, RetryAfterCapOption })
        {
            command.Options.Add(option);
        }
    }

    // An output folder that cannot be written is found before anything is paid for, not after the whole run.
    private static void CheckWritableFolder(string folder, string option)
    {
        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, $".rpm-write-check-{System.Environment.ProcessId}");
            File.WriteAllText(probe, string.Empty);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{option}: the folder '{Path.GetFullPath(folder)}' cannot be written ({ex.Message}). Choose another folder.");
        }
    }

    // One run per output folder, whatever its cache: two would write the same report. Released when the process ends.
    private static FileStream LockFolder(string folder)
    {
        string path = Path.Combine(folder, ".rpm-run.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new AnswerCacheInUseException($"The output folder '{Path.GetFullPath(folder)}' is in use by another rpm run. Wait for it to finish, or give this run another --out.", ex);
        }
    }

    // A file to be written: not a folder, in a folder that can be written.
    private static void CheckWritableFile(string path, string option)
    {
        if (Directory.Exists(path))
        {
            throw new ArgumentException($"{option}: '{Path.GetFullPath(path)}' is a folder; give a file path, e.g. {Path.Combine(path, "result.json")}.");
        }

        CheckWritableFolder(Path.GetDirectoryName(Path.GetFullPath(path))!, option);
    }

    // Another run on the same cache is refused before its test request is sent.
    private static async Task CheckCacheFreeAsync(string cache, CancellationToken ct)
    {
        await using SqliteResponseStore store = await SqliteResponseStore.OpenAsync(cache, ct).ConfigureAwait(false);
    }

    // The one-line test request, with one retry, so that a down or overloaded server is reported quickly with its reason.
    private static async Task<string?> PreflightAsync(CliServices services, EndpointSettings settings, ProgressPrinter printer, ParseResult parse, CancellationToken ct)
    {
        using IChatClient client = services.CreateChatClient(settings with { MaxRetryAttempts = 1 }, printer.Retry);
        return await services.Preflight(client, settings, !parse.GetValue(JsonModeOption), ct).ConfigureAwait(false);
    }

    // Every expected failure becomes one message and a documented exit code, never a stack trace.
    private static async Task<int> Guard(TextWriter error, Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (EvaluationDataException ex)
        {
            error.WriteLine($"Data error: {ex.Message}");
            return DataError;
        }
        catch (InvalidDataException ex)
        {
            error.WriteLine($"Data error: {ex.Message}");
            return DataError;
        }
        catch (AnswerCacheInUseException ex)
        {
            error.WriteLine($"Error: {ex.Message}");
            return Busy;
        }
        catch (RpmStageException ex)
        {
            error.WriteLine($"Model error: {ex.Message}");
            error.WriteLine("Every answer that arrived is kept (answer cache and build checkpoints): run the same command again to retry only what failed.");
            return ModelFailure;
        }
        catch (RpmEndpointException ex)
        {
            error.WriteLine($"Model error: {ex.Message}");
            return ModelFailure;
        }
        catch (ArgumentException ex)
        {
            error.WriteLine($"Error: {ex.Message}");
            return UsageError;
        }
        catch (UnauthorizedAccessException ex)
        {
            error.WriteLine($"Error: {ex.Message}");
            return DataError;
        }
        catch (IOException ex)
        {
            error.WriteLine($"Error: {ex.Message}");
            return DataError;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("Interrupted.");
            return Interrupted;
        }
        catch (Exception ex)
        {
            error.WriteLine($"Internal error ({ex.GetType().Name}): {ex.Message}");
            error.WriteLine(System.Environment.GetEnvironmentVariable("RPM_DEBUG") is { Length: > 0 } ? ex.ToString() : "This is a bug in rpm; set RPM_DEBUG=1 to print the stack trace and report it.");
            return InternalError;
        }
    }

    private static async Task<EvaluationDataset> LoadDataAsync(ParseResult parse, CancellationToken ct)
    {
        LampTaskSpec? spec = await ResolveSpecAsync(parse, ct).ConfigureAwait(false);
        string? data = parse.GetValue(DataOption);
        string? questions = parse.GetValue(QuestionsOption);
        EvaluationDataset dataset = questions is not null
            ? await EvaluationDataLoader.LoadPairAsync(questions, parse.GetValue(GoldsOption) ?? throw new ArgumentException("--questions needs --golds (the outputs file)."), spec, ct).ConfigureAwait(false)
            : await EvaluationDataLoader.LoadAsync(data ?? throw new ArgumentException("Give --data (a LaMP folder or an opinions file), or --questions and --golds."), spec, ct).ConfigureAwait(false);
        return parse.GetValue(UsersOption) is int users ? dataset.TakePeople(users) : dataset;
    }

    private static async Task<LampTaskSpec?> ResolveSpecAsync(ParseResult parse, CancellationToken ct)
    {
        string? task = parse.GetValue(TaskOption);
        string? kind = parse.GetValue(KindOption);
        if (kind is not null)
        {
            RpmTaskKind parsedKind = LampTaskSpec.ParseKind(kind);
            string name = task ?? (parse.GetValue(DataOption) is string d ? Path.GetFileName(Path.TrimEndingDirectorySeparator(d)) : "custom-task");
            string[] inputs = parse.GetValue(InputFieldOption) is { Length: > 0 } fields ? [.. fields.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))] : ["text"];
            return new LampTaskSpec(
                name,
                parsedKind,
                parse.GetValue(DescriptionOption) ?? $"Predict this user's answer ({kind}).",
                inputs,
                parse.GetValue(OutputFieldOption) ?? (parsedKind == RpmTaskKind.Rating ? "score" : parsedKind == RpmTaskKind.Classification ? "tag" : "title"),
                labels: parse.GetValue(LabelsOption)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                scale: parse.GetValue(ScaleOption) is string scale ? LampTaskSpec.ParseScale(scale) : null);
        }

        if (task is null)
        {
            return null;
        }

        return LampTaskSpec.TryGetPreset(task, out LampTaskSpec? preset) ? preset
            : File.Exists(task) ? await LampTaskSpec.LoadAsync(task, ct).ConfigureAwait(false)
            : throw new ArgumentException($"--task '{task}' is neither a LaMP task (LaMP-1 ... LaMP-7) nor a task.json file.");
    }

    private static IReadOnlyList<IEvaluationMethod> ParseMethods(string? list) =>
        list is null ? EvaluationMethods.CreateAll() : [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.OrdinalIgnoreCase).Select(EvaluationMethods.Create)];

    private static EndpointSettings ResolveEndpoint(ParseResult parse, CliServices services)
    {
        int cap = parse.GetValue(RetryAfterCapOption);
        if (cap < 0)
        {
            throw new ArgumentException($"--retry-after-cap must be a number of seconds, 0 or more (was {cap}).");
        }

        return EndpointSettings.Resolve(
            parse.GetValue(EndpointOption), parse.GetValue(ModelOption), parse.GetValue(ApiKeyOption), parse.GetValue(EmbeddingEndpointOption), parse.GetValue(EmbeddingModelOption), services.Environment)
            with { RetryAfterCap = TimeSpan.FromSeconds(cap), Strict = !parse.GetValue(NoStrictOption) };
    }

    private static RpmOptions RpmOptionsFor(ParseResult parse, EndpointSettings settings) => new()
    {
        RetrievalCount = parse.GetValue(KOption),
        Tokenizer = Evaluation.EvaluationTokenizer.O200kBase,
        ChatOptions = new ChatOptions { ModelId = settings.Model, Temperature = (float)parse.GetValue(TemperatureOption) },
        UseJsonSchemaResponseFormat = !parse.GetValue(JsonModeOption),
        UseStrictJsonSchema = !parse.GetValue(NoStrictOption),
    };

    private static EvaluationUser FindUser(EvaluationDataset dataset, string? id) =>
        id is null ? dataset.Users[0]
        : dataset.Users.FirstOrDefault(u => u.Id == id) ?? dataset.Users.FirstOrDefault(u => u.PersonId == id)
        ?? throw new ArgumentException($"No user '{id}' in {dataset.Name}; e.g. {string.Join(", ", dataset.Users.Take(5).Select(u => u.Id))}.");

    private static void PrintModel(TextWriter output, UserModel model)
    {
        output.WriteLine($"Factors of {model.UserId} ({model.Paths.Count} reasoning paths, {model.UnassignedFeatureCount} unassigned features):");
        foreach (FactorStatistics s in model.Statistics)
        {
            string top = model.Task.Kind == RpmTaskKind.Generation
                ? string.Create(CultureInfo.InvariantCulture, $"influence {s.Influence}, +{s.PositiveShare:0.00} / ={s.NeutralShare:0.00} / -{s.NegativeShare:0.00}")
                : string.Join(", ", s.Propensity.Where(p => p.Value > 0).OrderByDescending(p => p.Value).Take(3).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:0.00}")))
                  + (s.MeanRating is double mean ? string.Create(CultureInfo.InvariantCulture, $"; mean {mean:0.00}") : string.Empty);
            output.WriteLine($"  - {s.Factor.Name} (coverage {s.Coverage}): {top}");
        }
    }

    private static async Task WriteTaskFileAsync(RpmTask task, string path, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("name", task.Name);
            writer.WriteString("kind", task.Kind switch { RpmTaskKind.MultipleChoice => "multiple-choice", _ => task.Kind.ToString().ToLowerInvariant() });
            writer.WriteString("description", task.Description);
            if (task.Labels.Count > 0)
            {
                writer.WriteStartArray("labels");
                foreach (string label in task.Labels)
                {
                    writer.WriteStringValue(label);
                }

                writer.WriteEndArray();
            }

            if (task.Scale is RatingScale scale)
            {
                writer.WriteStartObject("scale");
                writer.WriteNumber("minimum", scale.Minimum);
                writer.WriteNumber("maximum", scale.Maximum);
                writer.WriteNumber("step", scale.Step);
                writer.WriteEndObject();
            }

            writer.WriteStartArray("profileInput");
            writer.WriteStringValue("input");
            writer.WriteEndArray();
            writer.WriteString("profileOutput", "output");
            writer.WriteString("note", "Written by rpm eval so that rpm score can read golds.json and predictions/*.json of this folder.");
            writer.WriteEndObject();
        }

        await File.WriteAllBytesAsync(path, buffer.ToArray(), ct).ConfigureAwait(false);
    }

    private static string Slug(string text) => new([.. text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]);

    private static string Money(decimal value) => value == 0 ? "$0" : value < 0.01m ? "$" + value.ToString("0.######", CultureInfo.InvariantCulture) : "$" + value.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Shorten(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 3), "...");
}
