using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Rpm.OpenAI.Batch.Tests;

/// <summary>Users as a stream: a window of them in memory at once, and a state file compacted as they are built.</summary>
public sealed class BatchStreamTests
{
    [Fact]
    public async Task A_stream_is_read_only_as_the_window_empties_and_a_rerun_of_the_same_stream_pays_for_no_answer_it_has()
    {
        await using var harness = new BatchHarness();
        List<BatchUser> users = BatchHarness.Users(5);
        var held = new List<int>();

        // The stream notes, at each user it gives, how many given users have no saved model yet (those the window holds).
        async IAsyncEnumerable<BatchUser> Stream([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            for (int i = 0; i < users.Count; i++)
            {
                int unbuilt = 0;
                for (int j = 0; j < i; j++)
                {
                    unbuilt += await harness.Store.GetAsync(users[j].UserId, CancellationToken.None) is null ? 1 : 0;
                }

                held.Add(unbuilt);
                cancellationToken.ThrowIfCancellationRequested();
                yield return users[i];
            }
        }

        // The process stops once the second window (u3, u4) has sent its factors: their features are answered and
        // checkpointed, their factors' batch is in flight.
        using var stop = new CancellationTokenSource();
        using (OpenAIBatchBuilder first = harness.Builder(o => o.MaxUsersInMemory = 2))
        {
            var progress = new SynchronousProgress(p =>
            {
                if (p.Wave == 5 && p.Polled is null)
                {
                    stop.Cancel();
                }
            });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.BuildAsync(harness.Pipeline(first), Stream(), progress, stop.Token));
        }

        Assert.Equal([0, 1, 0, 1], held);
        Assert.NotNull(await harness.Store.GetAsync("u2"));
        Assert.Null(await harness.Store.GetAsync("u3"));
        Assert.Equal(5, harness.Server.Submitted.Count);
        Assert.True((await CountsAsync(harness.StatePath))["answers"] > 0);

        // The same stream again: u1 and u2 are skipped, u3 and u4 polled and finished, u5 built after them; no line is
        // answered twice, and every answer leaves the file, those the first process used included.
        held.Clear();
        using OpenAIBatchBuilder second = harness.Builder(o => o.MaxUsersInMemory = 2);
        BatchBuildResult result = await second.BuildAsync(harness.Pipeline(second), Stream());

        Assert.True(result.Succeeded, string.Join("; ", result.Failures.Select(f => $"{f.Key}: {f.Value.Message}")));
        Assert.Equal(["u1", "u2", "u3", "u4", "u5"], result.BuiltUserIds);
        Assert.Equal([0, 0, 0, 1, 0], held);
        Assert.Equal(4, result.Waves); // u3 and u4's paths, then u5's three waves
        Assert.Equal(harness.Server.Answered.Count, harness.Server.Answered.Distinct().Count());
        Assert.Equal(users.Sum(u => (2 * u.History.Count) + 1), harness.Server.Answered.Count);
        Assert.Equal(
            new Dictionary<string, long> { ["answers"] = 0, ["requests"] = 0, ["batch_requests"] = 0, ["request_users"] = 0, ["users"] = 5, ["batches"] = 9 },
            await CountsAsync(harness.StatePath));
    }

    [Fact]
    public async Task The_state_file_keeps_no_answer_of_a_built_user_and_grows_by_its_id_only_unless_answers_are_kept_for_audit()
    {
        const int count = 12;
        List<BatchUser> users = BatchHarness.Users(count, items: 2);
        int requests = users.Sum(u => (2 * u.History.Count) + 1);

        // An empty state file: the schema alone.
        await using var empty = new BatchHarness();
        using (OpenAIBatchBuilder builder = empty.Builder())
        {
            Assert.True((await builder.BuildAsync(empty.Pipeline(builder), Array.Empty<BatchUser>())).Succeeded);
        }

        long schemaBytes = new FileInfo(empty.StatePath).Length;

        await using var compacted = new BatchHarness();
        using (OpenAIBatchBuilder builder = compacted.Builder(o => o.MaxUsersInMemory = 5))
        {
            BatchBuildResult result = await builder.BuildAsync(compacted.Pipeline(builder), users);
            Assert.True(result.Succeeded);
            Assert.Equal(requests, compacted.Server.Answered.Count);
        }

        Assert.Equal(
            new Dictionary<string, long> { ["answers"] = 0, ["requests"] = 0, ["batch_requests"] = 0, ["request_users"] = 0, ["users"] = count, ["batches"] = 9 },
            await CountsAsync(compacted.StatePath));
        long bytes = new FileInfo(compacted.StatePath).Length;
        Assert.Equal("incremental", await ScalarAsync(compacted.StatePath, "SELECT CASE WHEN auto_vacuum = 2 THEN 'incremental' END FROM pragma_auto_vacuum"));
        Assert.Equal(0L, await ScalarAsync(compacted.StatePath, "SELECT freelist_count FROM pragma_freelist_count"));

        // Twelve ids and nine batches fit in the pages the schema has: per built user, at most a page's share.
        Assert.True(bytes - schemaBytes <= 4096, $"{bytes} bytes against {schemaBytes} for the schema alone");

        await using var audit = new BatchHarness();
        using (OpenAIBatchBuilder builder = audit.Builder(o => { o.MaxUsersInMemory = 5; o.KeepAnswersForAudit = true; }))
        {
            Assert.True((await builder.BuildAsync(audit.Pipeline(builder), users)).Succeeded);
        }

        Assert.Equal(
            new Dictionary<string, long> { ["answers"] = requests, ["requests"] = requests, ["batch_requests"] = requests, ["request_users"] = 0, ["users"] = count, ["batches"] = 9 },
            await CountsAsync(audit.StatePath));
        Assert.True(new FileInfo(audit.StatePath).Length > bytes);

        // What compaction costs: a model deleted from the store after its answers were dropped is paid for again.
        Assert.True(await compacted.Store.DeleteAsync("u1"));
        using OpenAIBatchBuilder again = compacted.Builder(o => o.MaxUsersInMemory = 5);
        BatchBuildResult rebuilt = await again.BuildAsync(compacted.Pipeline(again), users);
        Assert.True(rebuilt.Succeeded);
        Assert.Equal(3, rebuilt.Waves);
        Assert.Equal(requests + (2 * users[0].History.Count) + 1, compacted.Server.Answered.Count);
        Assert.Equal(0L, (await CountsAsync(compacted.StatePath))["answers"]);
    }

    private static async Task<Dictionary<string, long>> CountsAsync(string path)
    {
        var counts = new Dictionary<string, long>();
        foreach (string table in new[] { "answers", "requests", "batch_requests", "request_users", "users", "batches" })
        {
            counts[table] = (long)(await ScalarAsync(path, $"SELECT COUNT(*) FROM {table}"))!;
        }

        return counts;
    }

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<BatchWaveProgress> report) : IProgress<BatchWaveProgress>
    {
        public void Report(BatchWaveProgress value) => report(value);
    }

    private static async Task<object?> ScalarAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
