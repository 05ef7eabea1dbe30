using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rpm.Evaluation;
using static Rpm.Cli.CliOptions;
using static Rpm.Cli.RpmCli;

namespace Rpm.Cli;

/// <summary>What the rpm commands share: loading data, resolving the endpoint, checks made before anything is paid for, and the guard that turns failures into messages and exit codes.</summary>
internal static class CliSupport
{
    // An output folder that cannot be written is found before anything is paid for, not after the whole run.
    internal static void CheckWritableFolder(string folder, string option)
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
            throw new ArgumentException($"{option}: the folder '{Path.GetFullPath(folder)}' cannot be written: {ex.Message.TrimEnd('.')}. Choose another folder.");
        }
    }

    // One run per output folder, whatever its cache: two would write the same report. Released when the process ends.
    internal static FileStream LockFolder(string folder)
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
    internal static void CheckWritableFile(string path, string option)
    {
        if (Directory.Exists(path))
        {
            throw new ArgumentException($"{option}: '{Path.GetFullPath(path)}' is a folder; give a file path, e.g. {Path.Combine(path, "result.json")}.");
        }

        CheckWritableFolder(Path.GetDirectoryName(Path.GetFullPath(path))!, option);
    }

    // Another run on the same cache is refused before its test request is sent.
    internal static async Task CheckCacheFreeAsync(string cache, CancellationToken ct)
    {
        await using SqliteResponseStore store = await SqliteResponseStore.OpenAsync(cache, ct).ConfigureAwait(false);
    }

    // The one-line test request, with one retry, so that a down or overloaded server is reported quickly with its reason.
    internal static async Task<string?> PreflightAsync(CliServices services, EndpointSettings settings, ProgressPrinter printer, ParseResult parse, CancellationToken ct)
    {
        using IChatClient client = services.CreateChatClient(settings with { MaxRetryAttempts = 1 }, printer.Retry);
        return await services.Preflight(client, settings, !parse.GetValue(JsonModeOption), ct).ConfigureAwait(false);
    }

    // Every expected failure becomes one message and a documented exit code, never a stack trace.
    internal static async Task<int> Guard(TextWriter error, Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageWriteException.Find(ex) is StorageWriteException storage)
        {
            // Before the model errors: a stage that failed because its answer could not be written is not the model's fault,
            // and "every answer that arrived is kept" would not be true.
            ReportStorageFailure(error, storage);
            return StorageFailure;
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

    // Says which file, what was saved and lost, and what to do; an answer counts as kept only once its write succeeded.
    internal static void ReportStorageFailure(TextWriter error, StorageWriteException failure)
    {
        string path = failure.Path ?? "(unknown)";
        string folder = Path.GetDirectoryName(path) ?? path;
        error.WriteLine($"Storage error: {failure.Message}");
        error.WriteLine("The run stopped at the first failed write, so as not to pay for answers it cannot keep.");
        error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{failure.SavedAnswers} answers this run received are saved in it and will not be paid for again; {failure.LostAnswers} that arrived could not be saved (the disk had failed) and will be asked for, and paid, again."));
        error.WriteLine(failure.IsDiskFull
            ? $"Free space on the disk that holds {folder} (the cache is {Size(path)} now; `df -h {folder}` shows what is free), or give --cache a path on another disk; then run the same command again."
            : $"Make {folder} writable (check the disk, its permissions and that it is not mounted read-only), or give --cache a path on another disk; then run the same command again.");
    }

    // A result file (report, user model) that could not be written after the run: the answers are all in the cache.
    internal static int ReportResultWriteFailure(TextWriter error, Exception failure, string what, string folder, string cache)
    {
        folder = Path.GetFullPath(folder);
        error.WriteLine($"Storage error: {what} cannot be written: {failure.Message.TrimEnd('.')}.");
        error.WriteLine($"Every answer of the run is saved in {cache}: running the same command again pays for none of them.");
        error.WriteLine(StorageWriteException.IsDiskFullError(failure)
            ? $"Free space on the disk that holds {folder} (`df -h {folder}` shows what is free), or give --out a path on another disk; then run the same command again."
            : $"Make {folder} writable, or give --out a path on another disk; then run the same command again.");
        return StorageFailure;
    }

    private static string Size(string path)
    {
        long bytes = new[] { path, path + "-wal" }.Where(File.Exists).Sum(p => new FileInfo(p).Length);
        return bytes >= 1 << 20 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 20):0.0} MB") : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KB");
    }

    // What of a command's calls came from a cache, said truthfully: an earlier run's answers, and answers this run had
    // already received (a repeated prompt, or a build two methods share); nothing when neither.
    internal static string CacheNote(UsageTotals usage, string cache)
    {
        List<string> parts = [];
        if (usage.EarlierRunCalls > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{usage.EarlierRunCalls:N0} answered from the cache of an earlier run, {cache}"));
        }

        if (usage.ReusedCalls > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{usage.ReusedCalls:N0} reused answers this run had already received"));
        }

        return parts.Count == 0 ? string.Empty : " (" + string.Join("; ", parts) + ")";
    }

    internal static async Task<EvaluationDataset> LoadDataAsync(ParseResult parse, CancellationToken ct)
    {
        LampTaskSpec? spec = await ResolveSpecAsync(parse, ct).ConfigureAwait(false);
        string? data = parse.GetValue(DataOption);
        string? questions = parse.GetValue(QuestionsOption);
        EvaluationDataset dataset = questions is not null
            ? await EvaluationDataLoader.LoadPairAsync(questions, parse.GetValue(GoldsOption) ?? throw new ArgumentException("--questions needs --golds (the outputs file)."), spec, ct).ConfigureAwait(false)
            : await EvaluationDataLoader.LoadAsync(data ?? throw new ArgumentException("Give --data (a LaMP folder or an opinions file), or --questions and --golds."), spec, ct).ConfigureAwait(false);
        return parse.GetValue(UsersOption) is int users ? dataset.TakePeople(users) : dataset;
    }

    internal static async Task<LampTaskSpec?> ResolveSpecAsync(ParseResult parse, CancellationToken ct)
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
                scale: parse.GetValue(ScaleOption) is string scale ? LampTaskSpec.ParseScale(scale) : null)
            {
                ContentRule = parse.GetValue(ContentMarkerOption) is { Length: > 0 } marker ? QueryContentRule.After(marker) : QueryContentRule.WholeInput,
            };
        }

        if (task is null)
        {
            return null;
        }

        return LampTaskSpec.TryGetPreset(task, out LampTaskSpec? preset) ? preset
            : File.Exists(task) ? await LampTaskSpec.LoadAsync(task, ct).ConfigureAwait(false)
            : throw new ArgumentException($"--task '{task}' is neither a LaMP task (LaMP-1 ... LaMP-7) nor a task.json file.");
    }

    internal static IReadOnlyList<IEvaluationMethod> ParseMethods(string? list, FermiOptions? fermi = null)
    {
        IReadOnlyList<IEvaluationMethod> methods = list is null
            ? EvaluationMethods.CreateDefault()
            : [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.OrdinalIgnoreCase).Select(EvaluationMethods.Create)];
        return fermi is null ? methods : [.. methods.Select(m => m is FermiMethod f ? new FermiMethod(fermi with { ChainOfThought = f.Options.ChainOfThought }) : m)];
    }

    internal static FermiOptions FermiOptionsFor(ParseResult parse) => new()
    {
        Iterations = parse.GetValue(CliOptions.FermiIterationsOption),
        MemorySize = parse.GetValue(CliOptions.FermiMemoryOption),
        PromptsPerIteration = parse.GetValue(CliOptions.FermiPromptsOption),
        ScoringItems = parse.GetValue(CliOptions.FermiScoringItemsOption),
    };

    internal static EndpointSettings ResolveEndpoint(ParseResult parse, CliServices services)
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

    internal static RunPrices PricesFor(ParseResult parse, EndpointSettings settings) =>
        PriceTable.Resolve(parse.GetValue(PriceInOption), parse.GetValue(PriceOutOption), settings.Endpoint, settings.Model);

    internal static RpmOptions RpmOptionsFor(ParseResult parse, EndpointSettings settings) => new()
    {
        RetrievalCount = parse.GetValue(KOption),
        FeatureExtractionBatchSize = BatchSize(parse),
        ReasoningBatchSize = BatchSize(parse),
        Tokenizer = Evaluation.EvaluationTokenizer.O200kBase,
        ChatOptions = new ChatOptions { ModelId = settings.Model, Temperature = (float)parse.GetValue(TemperatureOption) },
        UseJsonSchemaResponseFormat = !parse.GetValue(JsonModeOption),
        UseStrictJsonSchema = !parse.GetValue(NoStrictOption),
    };

    // --batch-size where the command has it (build), the paper's one item a call elsewhere.
    private static int BatchSize(ParseResult parse) => parse.GetResult(BatchSizeOption) is null ? 1 : parse.GetValue(BatchSizeOption);

    internal static EvaluationUser FindUser(EvaluationDataset dataset, string? id) =>
        id is null ? dataset.Users[0]
        : dataset.Users.FirstOrDefault(u => u.Id == id) ?? dataset.Users.FirstOrDefault(u => u.PersonId == id)
        ?? throw new ArgumentException($"No user '{id}' in {dataset.Name}; e.g. {string.Join(", ", dataset.Users.Take(5).Select(u => u.Id))}.");

    internal static void PrintModel(TextWriter output, UserModel model)
    {
        output.WriteLine($"Factors of {model.UserId} ({model.Paths.Count} reasoning paths, {model.UnassignedFeatureCount} unassigned features):");
        foreach (FactorStatistics s in model.Statistics)
        {
            output.WriteLine($"  - {s.Factor.Name} (coverage {s.Coverage}): {ReportFormat.Statistics(model.Task, s)}");
        }
    }

    internal static async Task WriteTaskFileAsync(RpmTask task, string path, CancellationToken ct)
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

    internal static string Slug(string text) => new([.. text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]);

    internal static string Money(decimal value) => ReportFormat.Money(value);

    internal static string Shorten(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 3), "...");
}
