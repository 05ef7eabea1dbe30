using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Rpm;
using Rpm.OpenAI.Batch.Tests;
using Rpm.Tests;
using Rpm.Tests.Fakes;

// Peak memory of a batch build for growing user counts. The parent hosts the loopback Files and Batches API with the
// fake model (whose request log and files would otherwise be measured too) and runs each build in a child process, which
// samples its live managed heap after a forced full collection at every wave's end (when the builder holds the most) and
// reports its peak working set.
//
//   dotnet run -c Release --project benchmarks/Rpm.Benchmarks.BatchMemory -- --users 1000,10000 --items 5 --modes list,stream
return args.Contains("--child") ? await Child.RunAsync(args) : await Parent.RunAsync(args);

internal static class Arguments
{
    public static string Get(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}

internal static class Parent
{
    public static async Task<int> RunAsync(string[] args)
    {
        int[] counts = [.. Arguments.Get(args, "--users", "1000,10000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
        int items = int.Parse(Arguments.Get(args, "--items", "5"), CultureInfo.InvariantCulture);
        string[] modes = Arguments.Get(args, "--modes", "list,stream").Split(',');
        string window = Arguments.Get(args, "--window", "default");
        string label = Arguments.Get(args, "--label", string.Empty);
        string modelCache = Arguments.Get(args, "--model-cache", "default");
        var rows = new List<JsonElement>();
        foreach (string mode in modes)
        {
            foreach (int users in counts)
            {
                string directory = Path.Combine(Path.GetTempPath(), "rpm-batch-memory", Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(directory);
                await using (var server = new FakeBatchServer(new FakeChatClient("gpt-4o-mini")) { KeepHistory = false })
                {
                    string self = Environment.ProcessPath!;
                    var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
                    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
                    {
                        start.ArgumentList.Add(typeof(Parent).Assembly.Location);
                    }

                    foreach (string a in new[] { "--child", "--endpoint", server.Endpoint.ToString(), "--users", users.ToString(CultureInfo.InvariantCulture), "--items", items.ToString(CultureInfo.InvariantCulture), "--mode", mode, "--window", window, "--model-cache", modelCache, "--dir", directory })
                    {
                        start.ArgumentList.Add(a);
                    }

                    using Process child = Process.Start(start)!;
                    string output = await child.StandardOutput.ReadToEndAsync();
                    await child.WaitForExitAsync();
                    string last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "{}";
                    if (child.ExitCode != 0)
                    {
                        Console.Error.WriteLine(output);
                        return child.ExitCode;
                    }

                    JsonElement row = JsonDocument.Parse(last).RootElement.Clone();
                    rows.Add(row);
                    Console.Error.WriteLine(last + " answered by the server: " + server.AnsweredCount);
                }

                Directory.Delete(directory, recursive: true);
            }
        }

        Console.WriteLine($"{label} items {items}, window {window}, pipeline model cache {modelCache}");
        Console.WriteLine("| build | users | waves | requests | peak live managed heap | MiB per 1,000 users | peak working set | state file after | bytes per built user | wall time |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (JsonElement r in rows)
        {
            int users = r.GetProperty("users").GetInt32();
            double heap = r.GetProperty("peakHeap").GetInt64() / 1048576.0;
            double ws = r.GetProperty("peakWorkingSet").GetInt64() / 1048576.0;
            long state = r.GetProperty("stateBytes").GetInt64();
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {label}{r.GetProperty("mode").GetString()} | {users:N0} | {r.GetProperty("waves").GetInt32()} | {r.GetProperty("requests").GetInt32():N0} | {heap:F1} MiB | {heap * 1000 / users:F1} | {ws:F0} MiB | {state:N0} B | {(double)state / users:F0} | {r.GetProperty("seconds").GetDouble():F0} s |"));
        }

        return 0;
    }
}

internal static class Child
{
    private static readonly RpmTask Task = TestData.MovieRating;

    private static readonly IReadOnlyList<string> Movies = TestData.SampleMovies;

    public static async Task<int> RunAsync(string[] args)
    {
        var endpoint = new Uri(Arguments.Get(args, "--endpoint", string.Empty));
        int users = int.Parse(Arguments.Get(args, "--users", "1000"), CultureInfo.InvariantCulture);
        int items = int.Parse(Arguments.Get(args, "--items", "5"), CultureInfo.InvariantCulture);
        string mode = Arguments.Get(args, "--mode", "list");
        string window = Arguments.Get(args, "--window", "default");
        string directory = Arguments.Get(args, "--dir", Path.GetTempPath());
        var options = new OpenAIBatchOptions
        {
            Endpoint = new OpenAIEndpointOptions { Endpoint = endpoint, ApiKey = "test-key", Model = "gpt-4o-mini" },
            StatePath = Path.Combine(directory, "batch.db"),
        };
#if !BEFORE
        if (window != "default")
        {
            options.MaxUsersInMemory = int.Parse(window, CultureInfo.InvariantCulture);
        }
#endif

        using var http = new HttpClient();
        using var builder = new OpenAIBatchBuilder(options, http);
        // The pipeline keeps built models in its own cache (RpmOptions.UserModelCacheSize, 256 MiB by default), which
        // grows with the users built up to that size; --model-cache 0 leaves only the builder's memory.
        var rpm = new RpmOptions();
        string modelCache = Arguments.Get(args, "--model-cache", "default");
        if (modelCache != "default")
        {
            rpm.UserModelCacheSize = long.Parse(modelCache, CultureInfo.InvariantCulture);
        }

        var pipeline = new RpmPipeline(
            builder.ChatClient,
            new FeatureExtractor(builder.ChatClient, rpm),
            new FactorConstructor(builder.ChatClient, rpm),
            new StatisticsBuilder(),
            new ReasoningPathBuilder(builder.ChatClient, rpm),
            new FeatureRetriever(new HashingEmbeddingGenerator(), rpm),
            new SqliteUserModelStore(Path.Combine(directory, "models.db")),
            new SqliteBuildCheckpointStore(Path.Combine(directory, "checkpoints.db")),
            rpm);

        long peak = 0;
        var progress = new Sampler(() => peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true)));
        var clock = Stopwatch.StartNew();
        BatchBuildResult result = mode switch
        {
            "list" => await builder.BuildAsync(pipeline, [.. Enumerable.Range(1, users).Select(u => User(u, items))], progress),
#if !BEFORE
            "stream" => await builder.BuildAsync(pipeline, Stream(users, items), progress),
#endif
            _ => throw new ArgumentException($"Mode '{mode}' is not in this build."),
        };
        clock.Stop();
        peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
        if (!result.Succeeded)
        {
            Console.WriteLine(string.Join("; ", result.Failures.Take(3).Select(f => $"{f.Key}: {f.Value.Message}")));
            return 1;
        }

        SqliteConnection.ClearAllPools();
        long state = new FileInfo(options.StatePath).Length + (File.Exists(options.StatePath + "-wal") ? new FileInfo(options.StatePath + "-wal").Length : 0);
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["mode"] = mode,
            ["users"] = result.BuiltUserIds.Count,
            ["waves"] = result.Waves,
            ["requests"] = result.RequestsSubmitted,
            ["peakHeap"] = peak,
            ["peakWorkingSet"] = Process.GetCurrentProcess().PeakWorkingSet64,
            ["stateBytes"] = state,
            ["seconds"] = clock.Elapsed.TotalSeconds,
        }));
        return 0;
    }

    private static BatchUser User(int u, int items) =>
        new($"u{u}", Task, Enumerable.Range(0, items).Select(i => Movies[(u + i) % Movies.Count]).Select((m, i) => new HistoryItem($"u{u}-h{i}", m, m.Contains("Sci-Fi", StringComparison.Ordinal) ? "4.5" : "1.5")));

#if !BEFORE
    private static async IAsyncEnumerable<BatchUser> Stream(int users, int items)
    {
        for (int u = 1; u <= users; u++)
        {
            await System.Threading.Tasks.Task.Yield();
            yield return User(u, items);
        }
    }
#endif

    /// <summary>Samples on the builder's own thread at each report (Progress&lt;T&gt; would post to the pool).</summary>
    private sealed class Sampler(Action sample) : IProgress<BatchWaveProgress>
    {
        public void Report(BatchWaveProgress value)
        {
            if (value.Polled is null)
            {
                sample();
            }
        }
    }
}
