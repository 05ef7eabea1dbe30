namespace Rpm.OpenAI.Batch.Tests;

/// <summary>Waiting for batches and for OpenAI's limits: bounded, visible, and not counted as failures.</summary>
public sealed class BatchWaitTests
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
}
