using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Xunit.Abstractions;

namespace Rpm.OpenAI.Batch.Tests;

/// <summary>Waiting for batches and for OpenAI's limits: bounded, visible, and not counted as failures.</summary>
public sealed class BatchWaitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_enqueued_token_limit_is_waited_out_with_backoff_and_does_not_use_up_the_submissions()
    {
        await using var harness = new BatchHarness();

        // The organization's queue is full for the first three creations (openai/openai-python#2084), then has room.
        harness.Server.Outcome = n => n <= 3 ? BatchOutcome.TokenLimited : BatchOutcome.Completed;
        using OpenAIBatchBuilder builder = harness.Builder();
        List<BatchUser> users = BatchHarness.Users(1);

        var (result, waits) = await harness.AdvanceUntilDoneAsync(builder.BuildAsync(harness.Pipeline(builder), users));

        IReadOnlyList<DateTimeOffset> created = harness.Server.CreatedAt;
        List<TimeSpan> gaps = [.. created.Zip(created.Skip(1), (a, b) => b - a)];
        int polls = harness.Server.Log.Count(l => l.StartsWith("GET /v1/batches/", StringComparison.Ordinal));
        string counts = $"submissions {created.Count}, polls {polls}, gaps {string.Join(", ", gaps)}";
        output.WriteLine(counts + (result.Succeeded ? ", built" : ", failed")); // benchmarks/README.md quotes this line

        Assert.True(result.Succeeded, counts + "; " + string.Join("; ", result.Failures.Select(f => f.Value.Message)));

        // Three refused by the limit, then the three waves; each is polled once (it ends at its first poll).
        Assert.Equal(6, created.Count);
        Assert.Equal(6, polls);

        // Resubmitted after a capped exponential backoff with jitter over its upper half: 1, 2 and 4 minutes by default.
        Assert.InRange(gaps[0], TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1));
        Assert.InRange(gaps[1], TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2));
        Assert.InRange(gaps[2], TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(4));
        Assert.Equal(3, waits.Count);
        Assert.Equal(TimeSpan.Zero, gaps[3]);
        Assert.Equal(TimeSpan.Zero, gaps[4]);
    }

    [Fact]
    public async Task A_batch_refused_by_the_token_limit_goes_again_as_soon_as_the_batch_in_progress_ends_without_counting_a_submission()
    {
        await using var harness = new BatchHarness();

        // The features' wave is split in two: batch 1 runs for 30 minutes, batch 2 finds the queue full.
        harness.Server.Duration = n => n == 1 ? TimeSpan.FromMinutes(30) : null;
        harness.Server.Outcome = n => n == 2 ? BatchOutcome.TokenLimited : BatchOutcome.Completed;
        using OpenAIBatchBuilder builder = harness.Builder(o => { o.MaxRequestsPerBatch = 3; o.MaxSubmissions = 1; });
        List<BatchUser> users = BatchHarness.Users(1);

        var (result, waits) = await harness.AdvanceUntilDoneAsync(builder.BuildAsync(harness.Pipeline(builder), users));

        // With one submission allowed, only a refusal that gives its submission back lets the user be built.
        Assert.True(result.Succeeded, string.Join("; ", result.Failures.Select(f => f.Value.Message)));
        IReadOnlyList<DateTimeOffset> created = harness.Server.CreatedAt;
        Assert.Equal(TimeSpan.FromMinutes(30), created[2] - created[1]);
        Assert.Equal(2, harness.Server.Submitted[2].Lines.Count);
        Assert.Equal(
            harness.Server.Submitted[1].Lines.Select(l => l["custom_id"]!.GetValue<string>()).Order(StringComparer.Ordinal),
            harness.Server.Submitted[2].Lines.Select(l => l["custom_id"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        // Only the 30 polls of batch 1; no backoff on top.
        Assert.Equal(30, waits.Count);
        Assert.All(waits, w => Assert.Equal(TimeSpan.FromMinutes(1), w));
    }

    [Fact]
    public async Task A_token_limit_that_never_clears_counts_again_after_MaxBatchWait_and_fails_the_user_with_the_server_s_words()
    {
        await using var harness = new BatchHarness();
        harness.Server.Outcome = _ => BatchOutcome.TokenLimited;
        using OpenAIBatchBuilder builder = harness.Builder(o =>
        {
            o.MaxBatchWait = TimeSpan.FromMinutes(10);
            o.TokenLimitMaxRetryDelay = TimeSpan.FromMinutes(2);
            o.MaxSubmissions = 2;
        });

        var (result, waits) = await harness.AdvanceUntilDoneAsync(builder.BuildAsync(harness.Pipeline(builder), BatchHarness.Users(1)));

        var error = Assert.IsType<OpenAIBatchException>(Assert.Single(result.Failures).Value);
        Assert.Contains("Enqueued token limit reached", error.Message, StringComparison.Ordinal);

        // Refunded while the refusals were younger than 10 minutes (backoff 1, 2, 2, ... minutes), then two counted ones.
        IReadOnlyList<DateTimeOffset> created = harness.Server.CreatedAt;
        Assert.InRange(created.Count, 6, 14);
        Assert.True(created[^2] - created[0] >= TimeSpan.FromMinutes(10), string.Join(", ", waits));
        Assert.All(waits, w => Assert.InRange(w, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)));
    }

    [Fact]
    public async Task A_batch_that_outlives_MaxBatchWait_is_cancelled_reported_by_name_and_its_answers_are_kept()
    {
        await using var harness = new BatchHarness();
        harness.Server.Duration = n => n == 1 ? TimeSpan.FromDays(365) : null;
        var logs = new FakeLogCollector();
        using var builder = new OpenAIBatchBuilder(
            harness.Options(o => { o.MaxBatchWait = TimeSpan.FromHours(2); o.PollInterval = TimeSpan.FromMinutes(10); o.MaxConcurrentBuilds = 1; }),
            harness.Http,
            new CollectingLoggerFactory(logs));
        List<BatchUser> users = BatchHarness.Users(2);
        int items = users.Sum(u => u.History.Count);
        var reports = new List<BatchWaveProgress>();

        var (result, waits) = await harness.AdvanceUntilDoneAsync(builder.BuildAsync(harness.Pipeline(builder), users, new SynchronousProgress<BatchWaveProgress>(reports.Add)));

        Assert.True(result.Succeeded, string.Join("; ", result.Failures.Select(f => f.Value.Message)));
        Assert.Equal(["batch_1"], result.TimedOutBatchIds);
        Assert.Equal(1, harness.Server.Log.Count(l => l == "POST /v1/batches/batch_1/cancel"));

        // Polled at 0, 10, ..., 120 minutes (cancelled at 120), once more while cancelling: 14 polls, 13 waits of 10 minutes.
        Assert.Equal(14, harness.Server.Log.Count(l => l == "GET /v1/batches/batch_1"));
        Assert.Equal(13, waits.Count);
        Assert.All(waits, w => Assert.Equal(TimeSpan.FromMinutes(10), w));

        // The half it answered before the cancellation was kept: only the other half went again, and nothing was paid twice.
        List<string> kept = [.. harness.Server.Answered.Take(items / 2)];
        List<string> resent = [.. harness.Server.Submitted[1].Lines.Select(l => l["custom_id"]!.GetValue<string>())];
        Assert.Equal(items - (items / 2), resent.Count);
        Assert.Empty(resent.Intersect(kept));
        Assert.Equal(harness.Server.Answered.Count, harness.Server.Answered.Distinct().Count());

        // One report and one log event per poll that found it running, with its id, status, counts and age.
        List<BatchPollStatus> polled = [.. reports.Where(r => r.Polled is not null).Select(r => r.Polled!)];
        Assert.Equal(13, polled.Count);
        Assert.All(polled, p => Assert.Equal("batch_1", p.BatchId));
        Assert.All(polled, p => Assert.Equal(items, p.RequestsTotal));
        Assert.Equal([.. Enumerable.Range(0, 12).Select(i => TimeSpan.FromMinutes(10 * i)), TimeSpan.FromMinutes(120)], polled.Select(p => p.Age));
        Assert.Equal([.. Enumerable.Repeat("in_progress", 12), "cancelling"], polled.Select(p => p.Status));
        Assert.Equal([1, 2, 3, 4, 4], reports.Where(r => r.Polled is null).Select(r => r.Wave)); // features, their other half, factors, paths

        IReadOnlyList<FakeLogRecord> records = logs.GetSnapshot();
        List<FakeLogRecord> waiting = [.. records.Where(r => r.Id.Id == 7001)];
        Assert.Equal(13, waiting.Count);
        Assert.Contains("batch_1 is in_progress after 01:50:00: 0 of " + items + " requests answered", waiting[11].Message, StringComparison.Ordinal);
        FakeLogRecord timedOut = Assert.Single(records, r => r.Id.Id == 7002);
        Assert.Equal(LogLevel.Warning, timedOut.Level);
        Assert.Contains("batch_1", timedOut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_s_age_counts_from_its_creation_so_a_restarted_process_does_not_wait_for_it_afresh()
    {
        await using var harness = new BatchHarness();
        harness.Server.Duration = n => n == 1 ? TimeSpan.FromDays(365) : null;
        List<BatchUser> users = BatchHarness.Users(1);
        using var cts = new CancellationTokenSource();
        using (OpenAIBatchBuilder first = harness.Builder())
        {
            Task<BatchBuildResult> run = first.BuildAsync(harness.Pipeline(first), users, cancellationToken: cts.Token);
            await harness.Time.WaitForTimerAsync();
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }

        // Three hours later a new process, allowed two hours per batch, cancels batch 1 at its first poll.
        harness.Time.Advance(TimeSpan.FromHours(3));
        using OpenAIBatchBuilder second = harness.Builder(o => o.MaxBatchWait = TimeSpan.FromHours(2));
        var reports = new List<BatchWaveProgress>();
        var (result, _) = await harness.AdvanceUntilDoneAsync(second.BuildAsync(harness.Pipeline(second), users, new SynchronousProgress<BatchWaveProgress>(reports.Add)));

        Assert.True(result.Succeeded, string.Join("; ", result.Failures.Select(f => f.Value.Message)));
        Assert.Equal(["batch_1"], result.TimedOutBatchIds);

        // One poll by the first process; then one that finds it too old (cancelled at once) and one while it cancels.
        Assert.Equal(3, harness.Server.Log.Count(l => l == "GET /v1/batches/batch_1"));
        BatchPollStatus cancelling = Assert.Single(reports, r => r.Polled is not null).Polled!;
        Assert.Equal("cancelling", cancelling.Status);
        Assert.Equal(TimeSpan.FromHours(3), cancelling.Age);
    }

    [Fact]
    public async Task A_request_left_unanswered_by_a_timed_out_batch_fails_its_user_naming_the_batch_and_the_wait()
    {
        await using var harness = new BatchHarness();
        harness.Server.Duration = _ => TimeSpan.FromDays(365);
        using OpenAIBatchBuilder builder = harness.Builder(o => { o.MaxBatchWait = TimeSpan.FromMinutes(30); o.PollInterval = TimeSpan.FromMinutes(10); o.MaxSubmissions = 1; });

        var (result, _) = await harness.AdvanceUntilDoneAsync(builder.BuildAsync(harness.Pipeline(builder), BatchHarness.Users(1)));

        var error = Assert.IsType<OpenAIBatchException>(Assert.Single(result.Failures).Value);
        Assert.Equal("batch_1", error.BatchId);
        Assert.Contains("batch batch_1 had not ended after 00:30:00 (OpenAIBatchOptions.MaxBatchWait 00:30:00) and was cancelled", error.Message, StringComparison.Ordinal);
        Assert.Equal(["batch_1"], result.TimedOutBatchIds);
    }

    [Fact]
    public async Task HTTP_429_from_the_Files_and_Batches_endpoints_honours_Retry_After_and_costs_no_submission()
    {
        await using var harness = new BatchHarness();
        int uploads = 0;
        int creations = 0;
        harness.Server.RateLimited = call => call switch
        {
            "POST /v1/files" => Interlocked.Increment(ref uploads) <= 2,
            "POST /v1/batches" => Interlocked.Increment(ref creations) <= 2,
            _ => false,
        };
        harness.Server.RetryAfterSeconds = 20;
        using OpenAIBatchBuilder builder = harness.Builder(o => o.MaxSubmissions = 1);

        var (result, waits) = await harness.AdvanceUntilDoneAsync(builder.BuildAsync(harness.Pipeline(builder), BatchHarness.Users(1)));

        Assert.True(result.Succeeded, string.Join("; ", result.Failures.Select(f => f.Value.Message)));
        Assert.Equal([20, 20, 20, 20], waits.Select(w => w.TotalSeconds));
        Assert.Equal(3, harness.Server.Submitted.Count);
        Assert.Equal(5, harness.Server.Log.Count(l => l == "POST /v1/batches"));
    }

    [Fact]
    public async Task A_batch_creation_still_rate_limited_after_its_retries_goes_again_after_a_backoff_without_counting_a_submission()
    {
        await using var harness = new BatchHarness();
        int creations = 0;
        harness.Server.RateLimited = call => call == "POST /v1/batches" && Interlocked.Increment(ref creations) <= 2;
        using OpenAIBatchBuilder builder = harness.Builder(o => { o.MaxSubmissions = 1; o.Endpoint.Build.MaxRetryAttempts = 1; });

        var (result, waits) = await harness.AdvanceUntilDoneAsync(builder.BuildAsync(harness.Pipeline(builder), BatchHarness.Users(1)));

        Assert.True(result.Succeeded, string.Join("; ", result.Failures.Select(f => f.Value.Message)));

        // One Retry-After wait, then the creation gives up; the wave goes again after the first backoff step (30 to 60 s).
        Assert.Equal(2, waits.Count);
        Assert.Equal(TimeSpan.FromSeconds(20), waits[0]);
        Assert.InRange(waits[1], TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1));
        Assert.Equal(3, harness.Server.Submitted.Count);
        Assert.Equal(4, result.Waves);
    }

    [Fact]
    public void The_wait_options_are_checked()
    {
        static string Invalid(Action<OpenAIBatchOptions> configure)
        {
            var options = new OpenAIBatchOptions { Endpoint = new OpenAIEndpointOptions { Endpoint = new Uri("http://127.0.0.1:1/v1"), ApiKey = "k", Model = "m" } };
            configure(options);
            return Assert.Throws<ArgumentException>(options.Validate).Message;
        }

        Assert.Equal(TimeSpan.FromHours(25), new OpenAIBatchOptions().MaxBatchWait);
        Assert.Equal(TimeSpan.FromMinutes(1), new OpenAIBatchOptions().TokenLimitRetryDelay);
        Assert.Equal(TimeSpan.FromMinutes(30), new OpenAIBatchOptions().TokenLimitMaxRetryDelay);
        Assert.Contains("MaxBatchWait", Invalid(o => o.MaxBatchWait = TimeSpan.Zero), StringComparison.Ordinal);
        Assert.Contains("TokenLimitRetryDelay", Invalid(o => o.TokenLimitRetryDelay = TimeSpan.FromSeconds(-1)), StringComparison.Ordinal);
        Assert.Contains("TokenLimitMaxRetryDelay", Invalid(o => o.TokenLimitMaxRetryDelay = TimeSpan.FromSeconds(1)), StringComparison.Ordinal);
    }

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private sealed class CollectingLoggerFactory(FakeLogCollector collector) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new FakeLogger(collector, categoryName);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }
}
