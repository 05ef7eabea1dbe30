using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rpm.Storage.TestWorker;
using Rpm.Storage.Tests.Infrastructure;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Storage.Tests.Hosting;

public sealed class ErasureTests : IDisposable
{
    private const string Marker = "ZQX-erase-me-7731";
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task One_call_erases_model_checkpoints_and_jobs_and_the_text_is_in_neither_the_db_nor_the_wal_file()
    {
        string path = _directory.File("erase.db");
        var services = new ServiceCollection();
        services.AddChatClient(new FakeChatClient());
        services.AddEmbeddingGenerator<string, Embedding<float>>(new HashingEmbeddingGenerator());
        services.AddRpm().UseSqliteStore(path).AddBackgroundBuilds();
        await using ServiceProvider provider = services.BuildServiceProvider();
        RpmPipeline pipeline = provider.GetRequiredService<RpmPipeline>();
        RpmBuildQueue queue = provider.GetRequiredService<RpmBuildQueue>();

        List<HistoryItem> history = [.. TestPipelines.MovieHistory(3), new HistoryItem("secret", $"{Marker} (1999). Genres: Drama.", "4.5")];
        await pipeline.BuildUserModelAsync("gone", TestPipelines.Rating, history);
        await pipeline.BuildUserModelAsync("kept", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        RpmBuildJob job = await queue.EnqueueAsync("gone", TestPipelines.Rating, history.Take(2));   // queued, never started
        await new SqliteBuildCheckpointStore(path).SaveAsync("gone", "build", "entry", $"{{\"text\":\"{Marker}\"}}");
        Assert.Contains(Marker, Encoding.UTF8.GetString((await pipeline.ExportUserAsync("gone"))!), StringComparison.Ordinal);
        Assert.True(Contains(path, Marker) || Contains(path + "-wal", Marker));

        Assert.True(await queue.EraseUserAsync(pipeline, "gone"));

        Assert.Null(await pipeline.GetUserModelAsync("gone"));
        Assert.Null(await pipeline.ExportUserAsync("gone"));
        Assert.Null(await queue.GetJobAsync(job.Id));
        Assert.Empty(await new SqliteBuildCheckpointStore(path).LoadAsync("gone", "build"));
        Assert.Equal(["kept"], await pipeline.ListUsersAsync());
        Assert.False(Contains(path, Marker), "The erased text is still in the database file.");
        Assert.False(Contains(path + "-wal", Marker), "The erased text is still in the write-ahead log.");
        Assert.NotNull(await pipeline.GetUserModelAsync("kept"));
        Assert.False(await pipeline.EraseUserAsync("gone"));
    }

    private static bool Contains(string file, string text)
    {
        if (!File.Exists(file))
        {
            return false;
        }

        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray().AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
    }
}
