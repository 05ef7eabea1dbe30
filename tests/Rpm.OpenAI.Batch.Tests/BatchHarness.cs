using Microsoft.Extensions.Time.Testing;
using Rpm.Tests;
using Rpm.Tests.Fakes;

namespace Rpm.OpenAI.Batch.Tests;

/// <summary>A fake model behind a loopback Batch API, a state file, and SQLite stores that outlive one builder (as a restarted process finds them).</summary>
public sealed class BatchHarness : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rpm-batch-tests", Guid.NewGuid().ToString("N"));

    public BatchHarness(FakeChatClient? model = null)
    {
        Directory.CreateDirectory(_directory);
        Model = model ?? new FakeChatClient("gpt-4o-mini");
        Server = new FakeBatchServer(Model);
        Store = new SqliteUserModelStore(Path.Combine(_directory, "models.db"));
        Checkpoints = new SqliteBuildCheckpointStore(Path.Combine(_directory, "checkpoints.db"));
        Http = new HttpClient();
        Server.Clock = Time;
    }

    public FakeChatClient Model { get; }

    public FakeBatchServer Server { get; }

    public SqliteUserModelStore Store { get; }

    public SqliteBuildCheckpointStore Checkpoints { get; }

    public HttpClient Http { get; }

    public TimerSignalingTimeProvider Time { get; } = new();

    public string StatePath => Path.Combine(_directory, "batch.db");

    public OpenAIBatchOptions Options(Action<OpenAIBatchOptions>? configure = null)
    {
        var options = new OpenAIBatchOptions
        {
            Endpoint = new OpenAIEndpointOptions { Endpoint = Server.Endpoint, ApiKey = "test-key", Model = "gpt-4o-mini" },
            StatePath = StatePath,
            TimeProvider = Time,
            PollInterval = TimeSpan.FromMinutes(1),
        };
        configure?.Invoke(options);
        return options;
    }

    public OpenAIBatchBuilder Builder(Action<OpenAIBatchOptions>? configure = null) => new(Options(configure), Http);

    /// <summary>
    /// Awaits a build, advancing the fake clock by each wait the builder starts (its waits are one at a time), so hours of
    /// polling and backoff take no real time; returns the result and every wait the builder asked for, in order.
    /// </summary>
    public async Task<(T Result, List<TimeSpan> Waits)> AdvanceUntilDoneAsync<T>(Task<T> run)
    {
        var waits = new List<TimeSpan>();
        using var done = new CancellationTokenSource();
        while (true)
        {
            Task<TimeSpan> timer = Time.WaitForTimerAsync(done.Token);
            if (await Task.WhenAny(run, timer) == run)
            {
                done.Cancel();
                return (await run, waits);
            }

            TimeSpan due = await timer;
            waits.Add(due);
            Time.Advance(due);
        }
    }

    public RpmPipeline Pipeline(OpenAIBatchBuilder builder, Action<RpmOptions>? configure = null)
    {
        var options = new RpmOptions();
        configure?.Invoke(options);
        return new RpmPipeline(
            builder.ChatClient,
            new FeatureExtractor(builder.ChatClient, options),
            new FactorConstructor(builder.ChatClient, options),
            new StatisticsBuilder(),
            new ReasoningPathBuilder(builder.ChatClient, options),
            new FeatureRetriever(new HashingEmbeddingGenerator(), options),
            Store,
            Checkpoints,
            options);
    }

    /// <summary>Users with distinct item ids (so no two users share a request), <paramref name="items"/> movies each.</summary>
    public static List<BatchUser> Users(int count, int items = 4) =>
        [.. Enumerable.Range(1, count).Select(u => new BatchUser($"u{u}", TestData.MovieRating, History($"u{u}", items + (u % 2))))];

    /// <summary>A history of <paramref name="count"/> movies, starting at a different movie for each user (so users' factor prompts differ).</summary>
    public static List<HistoryItem> History(string user, int count, int offset = -1)
    {
        int start = offset >= 0 ? offset : int.Parse(user.TrimStart('u'), System.Globalization.CultureInfo.InvariantCulture);
        return [.. Enumerable.Range(0, count).Select(i => TestData.SampleMovies[(start + i) % TestData.SampleMovies.Count]).Select((m, i) => new HistoryItem($"{user}-h{i}", m, m.Contains("Sci-Fi", StringComparison.Ordinal) ? "4.5" : "1.5"))];
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Http.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on some platform: the temp directory is cleaned by the OS.
        }
    }
}

/// <summary>A fake clock that says when a timer (a poll's wait) was created, so a test advances it only once someone waits.</summary>
public sealed class TimerSignalingTimeProvider : FakeTimeProvider
{
    private readonly SemaphoreSlim _created = new(0);
    private readonly System.Collections.Concurrent.ConcurrentQueue<TimeSpan> _due = new();

    /// <summary>Waits until a timer is created (bounded only so that a broken build fails instead of hanging the run); returns its due time.</summary>
    public async Task<TimeSpan> WaitForTimerAsync(CancellationToken cancellationToken = default)
    {
        if (!await _created.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken))
        {
            throw new TimeoutException("The batch builder never waited to poll again.");
        }

        return _due.TryDequeue(out TimeSpan due) ? due : TimeSpan.Zero;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        _due.Enqueue(dueTime);
        _created.Release();
        return timer;
    }
}
