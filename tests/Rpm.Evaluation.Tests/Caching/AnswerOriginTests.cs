using Microsoft.Data.Sqlite;

namespace Rpm.Evaluation.Tests.Caching;

/// <summary>
/// The cache tells an earlier run's answer from one this run wrote, so that "from the cache" is said only of savings; a
/// cache written before the run marker existed is read as all earlier.
/// </summary>
public sealed class AnswerOriginTests
{
    [Fact]
    public async Task An_answer_written_by_this_run_reads_as_this_runs_and_by_the_next_run_as_an_earlier_ones()
    {
        string path = Path.Combine(TestFiles.NewFolder(), "answers.sqlite");
        await using (SqliteResponseStore first = await SqliteResponseStore.OpenAsync(path))
        {
            await first.SetAsync("k", "scope", "model", "{}");
            Assert.Equal(("{}", true), await first.ReadAsync("k"));
            Assert.Equal(1, first.SavedThisRun);
        }

        await using SqliteResponseStore second = await SqliteResponseStore.OpenAsync(path);
        Assert.Equal(("{}", false), await second.ReadAsync("k"));
        Assert.Equal(0, second.SavedThisRun);
    }

    [Fact]
    public async Task A_cache_from_before_the_run_marker_gains_it_and_its_answers_are_an_earlier_runs()
    {
        string path = Path.Combine(TestFiles.NewFolder(), "answers.sqlite");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var old = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            await old.OpenAsync();
            await using SqliteCommand create = old.CreateCommand();
            create.CommandText =
                """
                CREATE TABLE responses (key TEXT PRIMARY KEY, scope TEXT NOT NULL, model TEXT NOT NULL, response TEXT NOT NULL, created_at TEXT NOT NULL);
                INSERT INTO responses VALUES ('k', 's', 'm', '{"old": true}', '2025-01-01T00:00:00.0000000+00:00');
                """;
            await create.ExecuteNonQueryAsync();
        }

        await using SqliteResponseStore store = await SqliteResponseStore.OpenAsync(path);
        await store.SetAsync("new", "s", "m", "{}");

        Assert.Equal(("{\"old\": true}", false), await store.ReadAsync("k"));
        Assert.Equal(("{}", true), await store.ReadAsync("new"));
    }
}
