using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rpm.Storage.TestWorker;
using Rpm.Storage.Tests.Infrastructure;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Storage.Tests.DependencyInjection;

public sealed class UseStoreTests : IClassFixture<PostgresDatabaseFixture>, IDisposable
{
    private readonly PostgresDatabaseFixture _database;
    private readonly TempDirectory _directory = new();

    public UseStoreTests(PostgresDatabaseFixture database)
    {
        _database = database;
    }

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task UseSqliteStore_registers_both_stores_over_one_file_and_the_pipeline_builds_into_it()
    {
        string path = _directory.File("di.db");
        using ServiceProvider provider = Services(s => s.AddRpm().UseSqliteStore(path));

        RpmPipeline pipeline = provider.GetRequiredService<RpmPipeline>();
        var store = Assert.IsType<SqliteUserModelStore>(provider.GetRequiredService<IUserModelStore>());
        var checkpoints = Assert.IsType<SqliteBuildCheckpointStore>(provider.GetRequiredService<IBuildCheckpointStore>());
        Assert.Same(store, pipeline.Store);
        Assert.Equal(Path.GetFullPath(path), store.Path);
        Assert.Equal(store.Path, checkpoints.Path);

        await pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        Assert.Equal(2, (await new SqliteUserModelStore(path).GetAsync("u"))!.Paths.Count);
    }

    [Fact]
    public async Task Keyed_pipelines_keep_their_models_in_their_own_sqlite_files()
    {
        string movies = _directory.File("movies.db");
        string books = _directory.File("books.db");
        using ServiceProvider provider = Services(s =>
        {
            s.AddKeyedRpm("movies").UseSqliteStore(movies);
            s.AddKeyedRpm("books").UseSqliteStore(books);
        });

        RpmPipeline moviePipeline = provider.GetRequiredKeyedService<RpmPipeline>("movies");
        RpmPipeline bookPipeline = provider.GetRequiredKeyedService<RpmPipeline>("books");
        Assert.Equal(Path.GetFullPath(movies), Assert.IsType<SqliteUserModelStore>(moviePipeline.Store).Path);
        Assert.Equal(Path.GetFullPath(books), Assert.IsType<SqliteUserModelStore>(bookPipeline.Store).Path);
        Assert.Null(provider.GetService<IUserModelStore>());

        await moviePipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        Assert.NotNull(await new SqliteUserModelStore(movies).GetAsync("u"));
        Assert.Null(await new SqliteUserModelStore(books).GetAsync("u"));
    }

    [Fact]
    public async Task UseSqliteStore_reads_a_named_connection_string_from_configuration()
    {
        string path = _directory.File("configured.db");
        using ServiceProvider provider = Services(
            s => s.AddRpm().UseSqliteStore(connectionStringName: "Rpm", configure: o => o.BusyTimeout = TimeSpan.FromSeconds(5)),
            new Dictionary<string, string?> { ["ConnectionStrings:Rpm"] = $"Data Source={path}" });

        var store = Assert.IsType<SqliteUserModelStore>(provider.GetRequiredService<IUserModelStore>());
        Assert.Equal(path, store.Path);
        await provider.GetRequiredService<RpmPipeline>().BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(1));
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void A_missing_connection_string_or_a_wrong_registration_is_explained()
    {
        using ServiceProvider provider = Services(s => s.AddRpm().UseSqliteStore(connectionStringName: "Missing"), []);
        var missing = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<IUserModelStore>);
        Assert.Contains("ConnectionStrings:Missing", missing.Message, StringComparison.Ordinal);

        using ServiceProvider noPostgres = Services(s => s.AddRpm().UsePostgresStore(connectionStringName: "Pg"), []);
        Assert.Contains("ConnectionStrings:Pg", Assert.Throws<InvalidOperationException>(noPostgres.GetRequiredService<IUserModelStore>).Message, StringComparison.Ordinal);

        var services = new ServiceCollection();
        Assert.Throws<ArgumentException>(() => services.AddRpm().UseSqliteStore());
        Assert.Throws<ArgumentException>(() => services.AddRpm().UseSqliteStore("a.db", "Rpm"));
        Assert.Throws<ArgumentException>(() => services.AddRpm().UseSqliteStore(":memory:"));
        Assert.Throws<ArgumentException>(() => services.AddRpm().UsePostgresStore());
        Assert.Throws<ArgumentException>(() => services.AddRpm().UsePostgresStore("Host=x;NoSuchKeyword=1"));
        Assert.Throws<ArgumentException>(() => services.AddRpm().UsePostgresStore("Host=x", configureQueue: o => o.MaxAttempts = 0));
    }

    [Fact]
    public async Task UsePostgresStore_registers_the_stores_and_the_queue_over_one_pool_from_configuration()
    {
        RpmPipeline pipeline;
        PostgresBuildQueue queue;
        await using (ServiceProvider provider = Services(
            s => s.AddRpm().UsePostgresStore(connectionStringName: "Rpm", configureQueue: o => o.WorkerName = "di-worker"),
            new Dictionary<string, string?> { ["ConnectionStrings:Rpm"] = _database.ConnectionString }))
        {
            pipeline = provider.GetRequiredService<RpmPipeline>();
            Assert.IsType<PostgresUserModelStore>(provider.GetRequiredService<IUserModelStore>());
            Assert.IsType<PostgresBuildCheckpointStore>(provider.GetRequiredService<IBuildCheckpointStore>());
            queue = provider.GetRequiredService<PostgresBuildQueue>();
            Assert.Equal("di-worker", queue.Options.WorkerName);

            await queue.EnqueueAsync("di-user", TestPipelines.Rating, TestPipelines.MovieHistory(2));
            Assert.Equal(1, await queue.ProcessPendingAsync(pipeline));
            Assert.Equal("di-worker", (await queue.GetJobAsync("di-user"))!.Worker);
        }

        // The container owned the connection pool and disposed it.
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pipeline.Store.GetAsync("di-user"));
        await using NpgsqlDataSource dataSource = _database.CreateDataSource();
        Assert.Equal(1, (await new PostgresUserModelStore(dataSource).GetAsync("di-user"))!.Version);
    }

    private static ServiceProvider Services(Action<IServiceCollection> configure, Dictionary<string, string?>? configuration = null)
    {
        var services = new ServiceCollection();
        services.AddChatClient(new FakeChatClient());
        services.AddEmbeddingGenerator<string, Embedding<float>>(new HashingEmbeddingGenerator());
        if (configuration is not null)
        {
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        }

        configure(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
