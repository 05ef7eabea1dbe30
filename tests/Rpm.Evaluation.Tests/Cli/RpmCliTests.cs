using System.Text.Json;
using Microsoft.Extensions.AI;
using Rpm.Cli;
using Rpm.Embeddings.MiniLM;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Cli;

public sealed class RpmCliTests
{
    private static CliServices Offline() => new() { Environment = _ => null };

    private static CliServices WithFake(EvalChatClient chat) => new()
    {
        Environment = _ => null,
        Probe = (_, _) => Task.FromResult<string?>(null),
        CreateChatClient = (_, _) => new NonDisposingChatClient(chat),
        CreateEmbeddingGenerator = _ => new HashingEmbeddingGenerator(),
    };

    private static async Task<(int Code, string Output, string Error)> Run(CliServices services, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await RpmCli.RunAsync(args, output, error, services);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Eval_without_an_endpoint_runs_the_model_free_methods_says_why_and_exits_0_with_a_report()
    {
        string outFolder = TestFiles.NewFolder();

        var (code, output, error) = await Run(Offline(), "eval", "--data", TestFiles.MovieLensRatings, "--users", "2", "--out", outFolder);

        Assert.Equal(0, code);
        Assert.Contains("No chat model: no chat model endpoint is set", output, StringComparison.Ordinal);
        Assert.Contains("RPM_ENDPOINT=http://localhost:11434/v1", output, StringComparison.Ordinal);
        Assert.Contains("| history-vote |", output, StringComparison.Ordinal);
        Assert.Contains("| user-prior |", output, StringComparison.Ordinal);
        Assert.Contains("users 2/2", error, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(outFolder, "report.html")));
        Assert.Contains("<svg id=\"metric-mae\"", await File.ReadAllTextAsync(Path.Combine(outFolder, "report.html")), StringComparison.Ordinal);
        LampOutputs predictions = await LampOutputs.ReadAsync(Path.Combine(outFolder, "predictions", "history-vote.json"));
        Assert.Equal(["5000", "5001"], predictions.Items.Select(p => p.Key));
    }

    [Fact]
    public async Task More_users_than_the_data_has_says_how_many_were_used_and_the_header_names_the_task_once()
    {
        var (code, output, _) = await Run(Offline(), "eval", "--data", TestFiles.MovieLensRatings, "--users", "100000", "--methods", "user-prior", "--out", TestFiles.NewFolder());

        Assert.Equal(0, code);
        Assert.Matches(@"--users 100000: the data has \d+ people, so all of them are used\.", output);
        Assert.Contains("Data: movielens-ratings: rating 0.5-5.0 step 0.5; ", output, StringComparison.Ordinal);
        Assert.Contains("# movielens-ratings: rating 0.5-5.0 step 0.5", output, StringComparison.Ordinal);
        Assert.Contains("this run had no model endpoint", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_rescores_eval_predictions_with_the_same_numbers_and_writes_JSON()
    {
        string outFolder = TestFiles.NewFolder();
        Assert.Equal(0, (await Run(Offline(), "eval", "--data", TestFiles.MovieLensRatings, "--users", "3", "--methods", "user-prior", "--out", outFolder)).Code);
        string predictions = Path.Combine(outFolder, "predictions", "user-prior.json");

        var (code, output, _) = await Run(Offline(), "score", "--predictions", predictions, "--golds", Path.Combine(outFolder, "golds.json"));

        Assert.Equal(0, code);
        using JsonDocument eval = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outFolder, "metrics.json")));
        double mae = eval.RootElement.GetProperty("methods")[0].GetProperty("metrics").GetProperty("mae").GetDouble();
        using JsonDocument scored = JsonDocument.Parse(await File.ReadAllTextAsync(Path.ChangeExtension(predictions, ".metrics.json")));
        Assert.Equal(mae, Math.Round(scored.RootElement.GetProperty("values").GetProperty("mae").GetDouble(), 6));
        Assert.Contains("mae", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_on_official_style_files_with_a_LaMP_task_and_a_missing_prediction()
    {
        string folder = TestFiles.NewFolder();
        string golds = TestFiles.Write(folder, "dev_outputs.json", """{"task": "LaMP_2", "golds": [{"id": "1", "output": "comedy"}, {"id": "2", "output": "classic"}]}""");
        string good = TestFiles.Write(folder, "preds.json", """{"task": "LaMP_2", "golds": [{"id": "2", "output": "classic"}, {"id": "1", "output": " horror "}]}""");
        string missing = TestFiles.Write(folder, "missing.json", """{"task": "LaMP_2", "golds": [{"id": "2", "output": "classic"}]}""");

        var (code, output, _) = await Run(Offline(), "score", "--predictions", good, "--golds", golds, "--out", Path.Combine(folder, "m.json"));
        var (badCode, _, error) = await Run(Offline(), "score", "--predictions", missing, "--golds", golds);

        Assert.Equal(0, code);
        Assert.Contains("accuracy  0.500 [0.000, 1.000]", output, StringComparison.Ordinal); // one of two right: a resample may hold neither or both
        Assert.Contains("n = 2 queries", output, StringComparison.Ordinal);
        Assert.Contains("1 not valid", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "m.json")));
        Assert.Equal(1, badCode);
        Assert.Contains("'1'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Estimate_works_offline_and_counts_2N_plus_1_build_calls_for_RPM()
    {
        var (code, output, _) = await Run(Offline(), "estimate", "--data", TestFiles.MovieLensRatings, "--users", "2", "--methods", "zero-shot,rpm,history-vote");

        Assert.Equal(0, code);
        EvaluationDataset data = (await EvaluationDataLoader.LoadAsync(TestFiles.MovieLensRatings)).TakePeople(2);
        int buildCalls = data.Users.Sum(u => (2 * u.History.Count) + 1);
        Assert.Contains($"| rpm | {buildCalls:N0} |", output, StringComparison.Ordinal);
        Assert.Contains("| zero-shot | 0 |", output, StringComparison.Ordinal);
        Assert.Contains("| history-vote | 0 |", output, StringComparison.Ordinal);
        Assert.Contains("Nothing was sent anywhere", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_with_a_model_runs_every_method_and_a_repeated_run_sends_nothing()
    {
        var chat = new EvalChatClient();
        string outFolder = TestFiles.NewFolder();
        string[] args = ["eval", "--data", TestFiles.MovieLensTags, "--users", "2", "--methods", "zero-shot,rag-dense,pag-cot,rpm,rpm-fallback,history-vote", "--out", outFolder, "--model", "fake-model"];

        var (code, output, _) = await Run(WithFake(chat), args);
        int first = chat.CallCount;
        var (again, output2, _) = await Run(WithFake(chat), args);

        // Each run checks the endpoint with one test request; everything else of the second run came from the cache.
        Assert.Equal(2, chat.WithSchema(EndpointProbe.PreflightSchemaName).Count);
        Assert.Equal(0, code);
        Assert.True(first > 1);
        Assert.Contains("| rpm |", output, StringComparison.Ordinal);
        Assert.DoesNotContain("No chat model", output, StringComparison.Ordinal);
        Assert.Equal(0, again);
        Assert.Equal(first + 1, chat.CallCount);
        Assert.Contains("all answered from the cache: this run sent nothing to the endpoint", output2, StringComparison.Ordinal);
        Assert.Contains("Why it answered: <code>rpm</code>", await File.ReadAllTextAsync(Path.Combine(outFolder, "report.html")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_then_ask_prints_the_rationale_and_examples_and_ask_without_a_model_uses_the_fallback()
    {
        var chat = new EvalChatClient();
        string folder = TestFiles.NewFolder();
        string modelFile = Path.Combine(folder, "user.json");
        string cache = Path.Combine(folder, "answers.sqlite");

        var (buildCode, buildOutput, _) = await Run(WithFake(chat), "build", "--data", TestFiles.MovieLensRatings, "--user", "1", "--out", modelFile, "--cache", cache);
        var (askCode, askOutput, _) = await Run(WithFake(chat), "ask", "--user-model", modelFile, "--question", "Alien (1979). Genres: Horror, Sci-Fi.", "--cache", cache);
        var offline = WithFake(chat);
        offline = new CliServices { Environment = offline.Environment, CreateEmbeddingGenerator = offline.CreateEmbeddingGenerator, Probe = (_, _) => Task.FromResult<string?>("down for the test") };
        var (fallbackCode, fallbackOutput, _) = await Run(offline, "ask", "--user-model", modelFile, "--question", "Alien (1979). Genres: Horror, Sci-Fi.");

        Assert.Equal(0, buildCode);
        Assert.Contains("Factors of 1", buildOutput, StringComparison.Ordinal);
        Assert.Contains("201 calls", buildOutput, StringComparison.Ordinal);
        Assert.Contains("Grounding: 100 of 100 reasoning paths grounded (100%).", buildOutput, StringComparison.Ordinal);
        Assert.True(File.Exists(modelFile));
        Assert.Equal(0, askCode);
        Assert.Contains("Rationale: The most similar past items", askOutput, StringComparison.Ordinal);
        Assert.Contains("Grounding: the rationale is grounded", askOutput, StringComparison.Ordinal);
        Assert.Contains("Retrieved examples (K = 3)", askOutput, StringComparison.Ordinal);
        Assert.Contains("reasoning: The input touches the user's factor", askOutput, StringComparison.Ordinal);
        Assert.Equal(0, fallbackCode);
        Assert.Contains("answering with the model-free predictor", fallbackOutput, StringComparison.Ordinal);
        Assert.Contains("Answer: ", fallbackOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_that_fails_the_test_request_is_skipped_with_the_reason_and_a_hint()
    {
        var chat = new EvalChatClient { OnCall = r => throw new InvalidOperationException("HTTP 400 (invalid_request_error: response_format json_schema is not supported)") };
        string outFolder = TestFiles.NewFolder();

        var (code, output, _) = await Run(WithFake(chat), "eval", "--data", TestFiles.MovieLensRatings, "--users", "1", "--out", outFolder);

        Assert.Equal(0, code);
        Assert.Equal(1, chat.CallCount);
        Assert.Contains("failed a one-line test request: HTTP 400", output, StringComparison.Ordinal);
        Assert.Contains("add --json-mode", output, StringComparison.Ordinal);
        Assert.Contains("| history-vote |", output, StringComparison.Ordinal);
        Assert.DoesNotContain("| rpm |", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_without_a_model_says_how_to_enable_one()
    {
        var (code, output, _) = await Run(Offline(), "build", "--data", TestFiles.MovieLensRatings);

        Assert.Equal(3, code);
        Assert.Contains("rpm build needs a chat model", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_error_exits_2_and_names_the_file()
    {
        string folder = TestFiles.NewFolder();
        TestFiles.Write(folder, "bad_questions.json", """[{"id": "1", "input": "q"}]""");
        TestFiles.Write(folder, "bad_outputs.json", """{"task": "LaMP_2", "golds": [{"id": "1", "output": "comedy"}]}""");

        var (code, _, error) = await Run(Offline(), "eval", "--data", folder, "--out", TestFiles.NewFolder());

        Assert.Equal(2, code);
        Assert.Contains("bad_questions.json, item '1': the question has no profile", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Endpoint_settings_come_from_options_then_environment()
    {
        var env = new Dictionary<string, string?> { ["RPM_ENDPOINT"] = "http://localhost:11434/v1", ["RPM_MODEL"] = "llama3.1" };

        EndpointSettings fromEnv = EndpointSettings.Resolve(null, null, null, null, null, env.GetValueOrDefault);
        EndpointSettings fromOptions = EndpointSettings.Resolve("http://h:8000/v1", "m", "k", null, null, env.GetValueOrDefault);
        EndpointSettings keyOnly = EndpointSettings.Resolve(null, null, "sk-x", null, null, _ => null);

        Assert.Equal(new Uri("http://localhost:11434/v1"), fromEnv.Endpoint);
        Assert.Equal("llama3.1", fromEnv.Model);
        Assert.Equal(new Uri("http://h:8000/v1"), fromOptions.Endpoint);
        Assert.Equal("m", fromOptions.Model);
        Assert.Equal(EndpointSettings.OpenAIEndpoint, keyOnly.Endpoint);
        Assert.Equal("gpt-4o-mini", keyOnly.Model);
        Assert.Throws<ArgumentException>(() => EndpointSettings.Resolve("localhost:11434", null, null, null, null, _ => null));
    }

    [Fact]
    public async Task The_probe_reports_an_endpoint_that_does_not_answer()
    {
        // Port 9 on loopback: nothing listens there, so the connection is refused at once.
        string? reason = await EndpointProbe.CheckAsync(new EndpointSettings(new Uri("http://127.0.0.1:9/v1"), "m", null, null, "e"), default);

        Assert.NotNull(reason);
        Assert.Contains("127.0.0.1:9", reason, StringComparison.Ordinal);
    }

    /// <summary>The CLI disposes the chat client it creates; the test keeps using the fake afterwards.</summary>
    private sealed class NonDisposingChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        protected override void Dispose(bool disposing)
        {
        }
    }

    [Fact]
    public async Task Each_subcommand_shows_only_the_options_it_uses()
    {
        var (_, buildHelp, _) = await Run(Offline(), "build", "--help");
        var (_, evalHelp, _) = await Run(Offline(), "eval", "--help");
        var (_, estimateHelp, _) = await Run(Offline(), "estimate", "--help");

        Assert.DoesNotContain("--users", buildHelp, StringComparison.Ordinal);
        Assert.Contains("--user ", buildHelp, StringComparison.Ordinal);
        Assert.Contains("--users", evalHelp, StringComparison.Ordinal);
        Assert.DoesNotContain("--endpoint", estimateHelp, StringComparison.Ordinal);
        Assert.DoesNotContain("--cache", estimateHelp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Estimate_counts_a_build_that_two_methods_share_once_in_its_total()
    {
        var (code, output, _) = await Run(Offline(), "estimate", "--data", TestFiles.MovieLensRatings, "--users", "3", "--methods", "rpm,rpm-fallback");
        var (_, alone, _) = await Run(Offline(), "estimate", "--data", TestFiles.MovieLensRatings, "--users", "3", "--methods", "rpm");

        Assert.Equal(0, code);
        Assert.Contains("rpm and rpm-fallback share one build; the total counts it once.", output, StringComparison.Ordinal);
        string Total(string text) => text.Split('\n').Single(l => l.StartsWith("Total:", StringComparison.Ordinal));
        Assert.Equal(Total(alone), Total(output)); // rpm-fallback adds no query calls, and its build is rpm's
    }

    [Fact]
    public async Task A_first_eval_into_an_empty_folder_claims_nothing_from_an_earlier_runs_cache()
    {
        // rpm-fallback's build is rpm's, read back from the cache rpm has just filled: reuse within this run, not a saving
        // from an earlier one.
        var chat = new EvalChatClient();

        var (code, output, _) = await Run(WithFake(chat), "eval", "--data", TestFiles.MovieLensRatings, "--users", "2", "--methods", "rpm,rpm-fallback,history-vote", "--out", TestFiles.NewFolder(), "--model", "fake-model");

        Assert.Equal(0, code);
        Assert.DoesNotContain("from the cache", output, StringComparison.Ordinal);
        Assert.Matches(@"reused [\d,]+ answers this run had already received", output);
    }

    [Fact]
    public async Task Ask_with_nothing_cached_does_not_say_the_rest_came_from_the_cache()
    {
        var chat = new EvalChatClient();
        string cache = Path.Combine(TestFiles.NewFolder(), "answers.sqlite");

        var (code, output, _) = await Run(WithFake(chat), "ask", "--data", TestFiles.MovieLensRatings, "--user", "1", "--cache", cache);
        var (again, output2, _) = await Run(WithFake(chat), "ask", "--data", TestFiles.MovieLensRatings, "--user", "1", "--cache", cache);

        Assert.Equal(0, code);
        Assert.DoesNotContain("from the cache", output, StringComparison.Ordinal);
        Assert.Contains($"Cost of this run: {chat.CallCount - 2} calls sent", output, StringComparison.Ordinal); // all but the two test requests
        Assert.Equal(0, again);
        Assert.Contains("Cost of this run: 0 calls sent", output2, StringComparison.Ordinal);
        Assert.Contains($"{chat.CallCount - 2} answered from the cache of an earlier run", output2, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_local_endpoint_is_priced_as_unknown_unless_prices_are_given()
    {
        string[] local = ["--endpoint", "http://localhost:11434/v1", "--model", "llama3.1"];

        var (code, output, _) = await Run(WithFake(new EvalChatClient()), ["eval", "--data", TestFiles.MovieLensRatings, "--users", "1", "--methods", "zero-shot", "--out", TestFiles.NewFolder(), .. local]);
        var (freeCode, free, _) = await Run(WithFake(new EvalChatClient()), ["eval", "--data", TestFiles.MovieLensRatings, "--users", "1", "--methods", "zero-shot", "--out", TestFiles.NewFolder(), "--price-in", "0", "--price-out", "0", .. local]);
        var (buildCode, build, _) = await Run(WithFake(new EvalChatClient()), ["build", "--data", TestFiles.MovieLensRatings, "--user", "1", "--out", Path.Combine(TestFiles.NewFolder(), "u.json"), "--cache", Path.Combine(TestFiles.NewFolder(), "a.sqlite"), .. local]);

        Assert.Equal(0, code);
        Assert.DoesNotContain("$", output, StringComparison.Ordinal);
        Assert.Contains("cost: unknown (no prices for model llama3.1 at endpoint http://localhost:11434/v1; pass --price-in and --price-out", output, StringComparison.Ordinal);
        Assert.Equal(0, freeCode);
        Assert.Contains("$0", free, StringComparison.Ordinal);
        Assert.DoesNotContain("cost: unknown", free, StringComparison.Ordinal);
        Assert.Equal(0, buildCode);
        Assert.DoesNotContain("$", build, StringComparison.Ordinal);
        Assert.Contains("cost: unknown (no prices for model llama3.1 at endpoint http://localhost:11434/v1", build, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAIs_endpoint_prices_a_model_of_the_price_table_and_says_where_the_prices_come_from()
    {
        var (code, output, _) = await Run(WithFake(new EvalChatClient()), "eval", "--data", TestFiles.MovieLensRatings, "--users", "1", "--methods", "zero-shot", "--out", TestFiles.NewFolder(), "--endpoint", "https://api.openai.com/v1", "--model", "gpt-4o-mini");

        Assert.Equal(0, code);
        Assert.Contains("Prices: $0.15 / $0.60 per million input / output tokens", output, StringComparison.Ordinal);
        Assert.Contains("OpenAI's list price for gpt-4o-mini", output, StringComparison.Ordinal);
    }

    // A cache that may grow by only a few pages: SQLite then fails a write with SQLITE_FULL, "database or disk is full",
    // the same error a full disk gives, without root or a size-limited mount.
    private static CliServices WithFullDisk(EvalChatClient chat, int pages)
    {
        CliServices fake = WithFake(chat);
        return new CliServices
        {
            Environment = fake.Environment,
            Probe = fake.Probe,
            CreateChatClient = fake.CreateChatClient,
            CreateEmbeddingGenerator = fake.CreateEmbeddingGenerator,
            OpenAnswerCache = async (path, ct) =>
            {
                SqliteResponseStore store = await SqliteResponseStore.OpenAsync(path, ct);
                await store.LimitSizeAsync(pages, ct);
                return store;
            },
        };
    }

    [Fact]
    public async Task A_full_disk_under_eval_is_a_storage_error_that_claims_only_saved_answers_and_a_rerun_pays_for_none_of_them()
    {
        string outFolder = TestFiles.NewFolder();
        string cache = Path.Combine(outFolder, "answers.sqlite");
        string[] args = ["eval", "--data", TestFiles.MovieLensRatings, "--users", "2", "--methods", "rpm,history-vote", "--out", outFolder, "--model", "fake-model"];
        var full = new EvalChatClient();

        var (code, _, error) = await Run(WithFullDisk(full, pages: 2), args);
        long saved;
        await using (SqliteResponseStore store = await SqliteResponseStore.OpenAsync(cache))
        {
            saved = await store.CountAsync();
        }

        var freed = new EvalChatClient();
        var (again, _, _) = await Run(WithFake(freed), args);
        var clean = new EvalChatClient();
        Assert.Equal(0, (await Run(WithFake(clean), ["eval", "--data", TestFiles.MovieLensRatings, "--users", "2", "--methods", "rpm,history-vote", "--out", TestFiles.NewFolder(), "--model", "fake-model"])).Code);

        Assert.Equal(RpmCli.StorageFailure, code);
        Assert.DoesNotContain("Model error", error, StringComparison.Ordinal);
        Assert.DoesNotContain("is kept", error, StringComparison.Ordinal);
        Assert.Contains("Storage error", error, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(cache), error, StringComparison.Ordinal);
        Assert.Contains("Free space", error, StringComparison.Ordinal);
        Assert.True(saved > 0);
        long lost = full.CallCount - 1 - saved; // every answer that arrived (but the test request) is saved or lost
        Assert.Contains($"{saved} answers this run received are saved", error, StringComparison.Ordinal);
        Assert.Contains($"{lost} that arrived could not be saved", error, StringComparison.Ordinal);
        Assert.True(full.CallCount < clean.CallCount, "the run stops at the first failed write instead of paying for answers it cannot keep");
        Assert.Equal(0, again);
        Assert.Equal(clean.CallCount - saved, freed.CallCount); // nothing saved is paid for again
    }

    [Fact]
    public async Task A_full_disk_under_build_is_a_storage_error_too()
    {
        string folder = TestFiles.NewFolder();
        var chat = new EvalChatClient();

        var (code, _, error) = await Run(WithFullDisk(chat, pages: 1), "build", "--data", TestFiles.MovieLensRatings, "--user", "1", "--out", Path.Combine(folder, "u.json"), "--cache", Path.Combine(folder, "a.sqlite"));
        long saved;
        await using (SqliteResponseStore store = await SqliteResponseStore.OpenAsync(Path.Combine(folder, "a.sqlite")))
        {
            saved = await store.CountAsync();
        }

        Assert.Equal(RpmCli.StorageFailure, code);
        Assert.Contains($"{saved} answers this run received are saved in it and will not be paid for again; {chat.CallCount - 1 - saved} that arrived", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, "u.json")));
        Assert.Contains("Storage error", error, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(folder, "a.sqlite"), error, StringComparison.Ordinal);
        Assert.DoesNotContain("is kept", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_report_that_hits_a_full_disk_is_a_storage_error_and_a_rerun_pays_for_nothing()
    {
        if (!File.Exists("/dev/full"))
        {
            return; // Linux only: every write to /dev/full fails with ENOSPC, a real full disk without root
        }

        string outFolder = TestFiles.NewFolder();
        Directory.CreateDirectory(outFolder);
        File.CreateSymbolicLink(Path.Combine(outFolder, "report.md"), "/dev/full");
        var chat = new EvalChatClient();
        string[] args = ["eval", "--data", TestFiles.MovieLensRatings, "--users", "1", "--methods", "rpm,history-vote", "--out", outFolder, "--model", "fake-model"];

        var (code, _, error) = await Run(WithFake(chat), args);
        int first = chat.CallCount;
        File.Delete(Path.Combine(outFolder, "report.md"));
        var (again, _, _) = await Run(WithFake(chat), args);

        Assert.Equal(RpmCli.StorageFailure, code);
        Assert.Contains($"Storage error: the report in '{Path.GetFullPath(outFolder)}' cannot be written", error, StringComparison.Ordinal);
        Assert.Contains("Free space on the disk that holds", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Data error", error, StringComparison.Ordinal);
        Assert.Equal(0, again);
        Assert.Equal(first + 1, chat.CallCount); // the second run's test request, nothing else
    }

    [Theory]
    [InlineData(28, true)]            // ENOSPC on Linux and macOS: .NET's IOException carries the errno as its HResult
    [InlineData(122, true)]           // EDQUOT on Linux
    [InlineData(unchecked((int)0x80070070), true)] // ERROR_DISK_FULL on Windows
    [InlineData(unchecked((int)0x80070027), true)] // ERROR_HANDLE_DISK_FULL on Windows
    [InlineData(2, false)]            // ENOENT
    public void A_disk_full_IOException_is_recognised_on_every_platform(int hresult, bool full)
    {
        Assert.Equal(full, StorageWriteException.IsDiskFullError(new IOException("x", hresult)));
    }

    [Fact]
    public async Task Ctrl_C_without_a_model_says_nothing_was_paid_for_instead_of_claiming_a_cache()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await RpmCli.RunAsync(["eval", "--data", TestFiles.MovieLensRatings, "--users", "2", "--methods", "user-prior", "--out", TestFiles.NewFolder()], output, error, Offline(), cancelled.Token);

        Assert.Equal(RpmCli.Interrupted, code);
        Assert.DoesNotContain("answers.sqlite", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("cache", error.ToString(), StringComparison.OrdinalIgnoreCase);
    }
}

