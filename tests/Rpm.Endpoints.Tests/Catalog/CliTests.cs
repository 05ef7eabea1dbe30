using System.Diagnostics;
using System.Text.Json.Nodes;
using Rpm.Cli;
using Rpm.Endpoints.Tests.Server;
using Rpm.Evaluation;
using Rpm.Tests;

namespace Rpm.Endpoints.Tests.Catalog;

/// <summary>The rpm command against the misbehaving endpoint: exit codes, messages without stack traces, re-runs that retry exactly what failed.</summary>
[Collection(EndpointCollection.Name)]
public sealed class CliTests
{
    /// <summary>Two real MovieLens users with their 6 latest ratings each, in LaMP's format.</summary>
    private static string SmallData()
    {
        string folder = Path.Combine(Path.GetTempPath(), "rpm-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        string source = Path.Combine(TestData.DataDirectory, "movielens-ratings");
        JsonArray questions = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "questions.json")))!.AsArray();
        var small = new JsonArray();
        foreach (JsonNode? q in questions.Take(2))
        {
            JsonObject copy = q!.DeepClone().AsObject();
            copy["profile"] = new JsonArray([.. copy["profile"]!.AsArray().TakeLast(6).Select(p => p!.DeepClone())]);
            small.Add(copy);
        }

        JsonObject outputs = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "outputs.json")))!.AsObject();
        var ids = small.Select(q => q!["id"]!.GetValue<string>()).ToHashSet();
        outputs["golds"] = new JsonArray([.. outputs["golds"]!.AsArray().Where(g => ids.Contains(g!["id"]!.GetValue<string>())).Select(g => g!.DeepClone())]);
        File.WriteAllText(Path.Combine(folder, "questions.json"), small.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "outputs.json"), outputs.ToJsonString());
        File.Copy(Path.Combine(source, "task.json"), Path.Combine(folder, "task.json"));
        return folder;
    }

    private static CliServices Services(MisbehavingOpenAiServer server) => new()
    {
        Environment = name => name switch
        {
            "RPM_ENDPOINT" => server.Endpoint.ToString(),
            "RPM_MODEL" => server.Model.ModelId,
            _ => null,
        },
        CreateChatClient = (settings, onRetry) => RpmOpenAI.CreateChatClient(new OpenAIEndpointOptions
        {
            Endpoint = settings.Endpoint!,
            Model = settings.Model,
            Build = Harness.Fast(EndpointRetryOptions.CreateBuildDefaults(), retries: 1),
            Interactive = Harness.Fast(EndpointRetryOptions.CreateInteractiveDefaults(), retries: 1),
            OnRetry = onRetry,
        }),
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
    public async Task Eval_exits_4_when_queries_were_refused_names_stage_and_reason_and_a_rerun_retries_exactly_those()
    {
        await using var server = new MisbehavingOpenAiServer();
        string data = SmallData();
        string outFolder = Path.Combine(data, "out");
        server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { NullContent = true, Refusal = "I can't guess a person's ratings." } : null;

        var (code, _, error) = await Run(Services(server), "eval", "--data", data, "--methods", "rpm", "--out", outFolder);

        Assert.Equal(RpmCli.ModelFailure, code);
        Assert.Contains("Model error: rpm failed 2 of 2 queries", error, StringComparison.Ordinal);
        Assert.Contains("The model refused stage Generation", error, StringComparison.Ordinal);
        Assert.Contains("I can't guess a person's ratings.", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);

        server.Behave = null;
        int before = server.ChatRequests;
        var (again, _, _) = await Run(Services(server), "eval", "--data", data, "--methods", "rpm", "--out", outFolder);

        Assert.Equal(0, again);
        var rerun = server.Requests.Skip(before).Where(r => r.Request.SchemaName != "rpm_preflight").ToList();
        Assert.Equal(2, rerun.Count);
        Assert.All(rerun, r => Assert.Equal(RpmStage.Generation, r.Stage));
    }

    [Fact]
    public async Task Eval_with_an_endpoint_that_fails_its_test_request_exits_4_with_the_servers_reason_and_runs_nothing()
    {
        await using var server = new MisbehavingOpenAiServer();
        server.Behave = _ => Reply.Error(404, """{"error":{"message":"model \"catalogue-model\" not found, try pulling it first","type":"api_error"}}""", "application/json");
        string data = SmallData();

        var (code, output, error) = await Run(Services(server), "eval", "--data", data, "--out", Path.Combine(data, "out"));

        Assert.Equal(RpmCli.ModelFailure, code);
        Assert.Contains("not found, try pulling it first", error, StringComparison.Ordinal);
        Assert.Contains("Nothing was run", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data, "out", "report.html")));
        Assert.Equal(1, server.ChatRequests);
        Assert.DoesNotContain("Report:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_that_fails_at_the_model_exits_4_with_stage_item_and_reason_and_no_stack_trace()
    {
        await using var server = new MisbehavingOpenAiServer();
        server.Behave = r => r.Stage == RpmStage.FeatureExtraction && r.Request.ItemId == "5000095" ? Reply.Error(500, "CUDA error: out of memory") : null;
        string data = SmallData();

        var (code, output, error) = await Run(Services(server), "build", "--data", data, "--user", "1", "--out", Path.Combine(data, "u.json"), "--cache", Path.Combine(data, "answers.sqlite"));

        Assert.Equal(RpmCli.ModelFailure, code);
        Assert.Contains("Model error: The chat model call for stage FeatureExtraction of item '5000095' failed", error, StringComparison.Ordinal);
        Assert.Contains("answered 500 Internal Server Error: CUDA error: out of memory", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_rpm_process_on_the_same_output_folder_is_refused_with_exit_code_5()
    {
        await using var server = new MisbehavingOpenAiServer();
        string data = SmallData();
        string outFolder = Path.Combine(data, "out");
        using var firstIsWorking = new SemaphoreSlim(0);

        // The first run's build calls are slow (answered after 30 s), so it holds the cache while the second starts.
        server.Behave = r =>
        {
            if (r.Stage != RpmStage.FeatureExtraction || r.Request.SchemaName == "rpm_preflight")
            {
                return null;
            }

            firstIsWorking.Release();
            return new Reply { Delay = TimeSpan.FromSeconds(30) };
        };
        string rpm = Path.Combine(AppContext.BaseDirectory, "rpm.dll");
        var start = new ProcessStartInfo("dotnet", [rpm, "eval", "--data", data, "--methods", "rpm", "--users", "1", "--out", outFolder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["RPM_ENDPOINT"] = server.Endpoint.ToString(), ["RPM_MODEL"] = server.Model.ModelId },
        };
        using Process first = Process.Start(start)!;
        Task<string> firstOut = first.StandardOutput.ReadToEndAsync();
        Task<string> firstErr = first.StandardError.ReadToEndAsync();
        bool working = await firstIsWorking.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(working, "The first run never reached the model.");

        using Process second = Process.Start(start)!;
        Task<string> secondErr = second.StandardError.ReadToEndAsync();
        string secondOut = await second.StandardOutput.ReadToEndAsync();
        await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        bool firstStillRunning = !first.HasExited;
        first.Kill(entireProcessTree: true);
        await first.WaitForExitAsync();
        string firstOutput = await firstOut + await firstErr;

        Assert.True(second.ExitCode == RpmCli.Busy, $"exit {second.ExitCode}: {secondOut} {await secondErr} ");
        Assert.True(firstStillRunning, "The first run ended early: " + firstOutput);
        Assert.Contains("is in use by another rpm run", await secondErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_shows_rate_limit_retries_on_its_progress_output_and_completes()
    {
        await using var server = new MisbehavingOpenAiServer();
        int limited = 0;
        server.Behave = r => r.Request.SchemaName == "baseline_answer" && Interlocked.Increment(ref limited) == 1
            ? Reply.Error(429, """{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}""", "application/json", new Dictionary<string, string> { ["Retry-After"] = "1" })
            : null;
        string data = SmallData();

        var (code, _, error) = await Run(Services(server), "eval", "--data", data, "--methods", "zero-shot", "--out", Path.Combine(data, "out"));

        Assert.Equal(0, code);
        Assert.Contains("rate limited, retrying in 1 s (retry 1 of 1, interactive profile)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_rejects_strict_schemas_is_caught_by_the_test_request_with_the_option_to_turn_them_off()
    {
        await using var server = new MisbehavingOpenAiServer();
        server.Behave = r => r.Body["response_format"]?["json_schema"]?["strict"]?.GetValue<bool>() == true
            ? Reply.Error(400, """{"error":{"message":"'strict' is not supported with this model","type":"invalid_request_error","param":"response_format"}}""", "application/json")
            : null;
        string data = SmallData();

        var (code, _, error) = await Run(Services(server), "eval", "--data", data, "--methods", "rpm", "--out", Path.Combine(data, "out"));
        var (relaxed, _, _) = await Run(Services(server), "eval", "--data", data, "--methods", "rpm", "--no-strict", "--out", Path.Combine(data, "out"));

        Assert.Equal(RpmCli.ModelFailure, code);
        Assert.Contains("'strict' is not supported with this model", error, StringComparison.Ordinal);
        Assert.Contains("add --no-strict", error, StringComparison.Ordinal);
        Assert.Equal(0, relaxed);
    }

    [Fact]
    public async Task A_server_that_keeps_answering_503_at_the_test_request_is_reported_quickly_with_its_words()
    {
        await using var server = new MisbehavingOpenAiServer();
        server.Behave = _ => Reply.Error(503, "Server overloaded, please retry later");
        string data = SmallData();
        var clock = Stopwatch.StartNew();

        var (code, _, error) = await Run(Services(server), "eval", "--data", data, "--methods", "rpm", "--out", Path.Combine(data, "out"));

        Assert.Equal(RpmCli.ModelFailure, code);
        Assert.Contains("answered 503 Service Unavailable: Server overloaded, please retry later", error, StringComparison.Ordinal);
        Assert.DoesNotContain("--json-mode", error, StringComparison.Ordinal);
        Assert.Equal(2, server.ChatRequests); // the test request and its one retry
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task An_output_folder_that_cannot_be_written_is_refused_before_any_call()
    {
        await using var server = new MisbehavingOpenAiServer();
        string data = SmallData();
        string blocked = Path.Combine(data, "a-file");
        File.WriteAllText(blocked, "not a folder");

        var (code, _, error) = await Run(Services(server), "eval", "--data", data, "--methods", "rpm", "--out", Path.Combine(blocked, "out"));
        var (buildCode, _, buildError) = await Run(Services(server), "build", "--data", data, "--user", "1", "--out", Path.Combine(blocked, "u.json"), "--cache", Path.Combine(data, "c.sqlite"));

        var (folderCode, _, folderError) = await Run(Services(server), "build", "--data", data, "--user", "1", "--out", data, "--cache", Path.Combine(data, "c.sqlite"));

        Assert.Equal(RpmCli.UsageError, code);
        Assert.Contains("--out: the folder", error, StringComparison.Ordinal);
        Assert.DoesNotContain(".).", error, StringComparison.Ordinal);
        Assert.Equal(RpmCli.UsageError, buildCode);
        Assert.Contains("--out: the folder", buildError, StringComparison.Ordinal);
        Assert.Equal(RpmCli.UsageError, folderCode);
        Assert.Contains("is a folder; give a file path", folderError, StringComparison.Ordinal);
        Assert.Equal(0, server.ChatRequests);
    }

    [Fact]
    public async Task Option_errors_name_the_option_in_plain_words()
    {
        await using var server = new MisbehavingOpenAiServer();

        var (code, output, error) = await Run(Services(server), "eval", "--data", SmallData(), "--users", "five");
        var (nanCode, nanOutput, nanError) = await Run(Services(server), "eval", "--data", SmallData(), "--temperature", "NaN");

        Assert.Equal(RpmCli.UsageError, code);
        Assert.Contains("--users must be a whole number, 1 or more (was 'five').", error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error + output, StringComparison.Ordinal);
        Assert.Equal(RpmCli.UsageError, nanCode);
        Assert.Contains("--temperature must be a number from 0 to 2 (was 'NaN').", nanError, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", nanError + nanOutput, StringComparison.Ordinal);
        Assert.Equal(0, server.ChatRequests);
    }

    [Fact]
    public async Task A_wrong_model_name_is_answered_with_the_names_the_endpoint_serves_closest_first()
    {
        await using var server = new MisbehavingOpenAiServer();
        server.Behave = _ => Reply.Error(404, """{"error":{"message":"model \"llama3.1\" not found, try pulling it first","type":"api_error"}}""", "application/json");
        CliServices services = Services(server);
        services = new CliServices
        {
            Environment = name => name switch { "RPM_ENDPOINT" => server.Endpoint.ToString(), "RPM_MODEL" => "llama3.1", _ => null },
            CreateChatClient = services.CreateChatClient,
            CreateEmbeddingGenerator = services.CreateEmbeddingGenerator,
        };

        var (code, _, error) = await Run(services, "eval", "--data", SmallData(), "--methods", "rpm", "--out", Path.Combine(SmallData(), "out"));

        Assert.Equal(RpmCli.ModelFailure, code);
        Assert.Contains("The endpoint serves: catalogue-model; pass one with --model (or RPM_MODEL).", error, StringComparison.Ordinal);
        Assert.DoesNotContain("--json-mode", error, StringComparison.Ordinal);
    }
}
