using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Rpm.Embeddings.MiniLM;
using Rpm.Evaluation;
using Rpm.Tests.Pipeline;

namespace Rpm.Endpoints.Tests.Server;

/// <summary>One real local MiniLM model per collection of endpoint tests.</summary>
public sealed class MiniLm : IDisposable
{
    public MiniLmEmbeddingGenerator Generator { get; } = new();

    public void Dispose() => Generator.Dispose();
}

[CollectionDefinition(Name)]
public sealed class EndpointCollection : ICollectionFixture<MiniLm>
{
    public const string Name = "Endpoint behaviours";
}

/// <summary>The outage test waits 30 real seconds: its own collection, so that it runs beside the others.</summary>
[CollectionDefinition(Name)]
public sealed class OutageCollection : ICollectionFixture<MiniLm>
{
    public const string Name = "Endpoint outage";
}

/// <summary>
/// A user's setup, as the evaluation runs it: the misbehaving server, the real OpenAI client through Rpm.OpenAI (with
/// short retry delays in both retry profiles unless a test asks for the defaults), and the answer cache of <c>rpm eval</c> in a real SQLite file.
/// </summary>
public sealed class Harness : IAsyncDisposable
{
    private readonly List<EndpointRetry> _retries = [];

    private Harness(MisbehavingOpenAiServer server, OpenAIEndpointOptions options, SqliteResponseStore cache, IEmbeddingGenerator<string, Embedding<float>> embeddings, ILoggerFactory? loggerFactory)
    {
        Server = server;
        Options = options;
        Cache = cache;
        Embeddings = embeddings;
        Endpoint = RpmOpenAI.CreateChatClient(options, loggerFactory: loggerFactory);
        Cached = new SqliteCachingChatClient(Endpoint, cache, RpmMethod.Scope, server.Model.ModelId);
    }

    public MisbehavingOpenAiServer Server { get; }

    public OpenAIEndpointOptions Options { get; }

    /// <summary>Gets the chat client straight to the endpoint (Rpm.OpenAI).</summary>
    public IChatClient Endpoint { get; }

    /// <summary>Gets the chat client with the answer cache in front, as <c>rpm eval</c> and <c>rpm build</c> use it.</summary>
    public IChatClient Cached { get; }

    internal SqliteResponseStore Cache { get; }

    public IEmbeddingGenerator<string, Embedding<float>> Embeddings { get; }

    public IReadOnlyList<EndpointRetry> Retries
    {
        get
        {
            lock (_retries)
            {
                return [.. _retries];
            }
        }
    }

    public static async Task<Harness> StartAsync(MiniLm miniLm, Action<OpenAIEndpointOptions>? configure = null, bool fastRetries = true, ILoggerFactory? loggerFactory = null)
    {
        var server = new MisbehavingOpenAiServer();
        Harness? harness = null;
        var options = new OpenAIEndpointOptions
        {
            Endpoint = server.Endpoint,
            Model = server.Model.ModelId,
            ApiKey = "test-key",
            OnRetry = r =>
            {
                lock (harness!._retries)
                {
                    harness._retries.Add(r);
                }
            },
        };
        if (fastRetries)
        {
            Fast(options.Build);
            Fast(options.Interactive);
        }

        configure?.Invoke(options);
        string folder = Path.Combine(Path.GetTempPath(), "rpm-endpoints-" + Guid.NewGuid().ToString("N"));
        SqliteResponseStore cache = await SqliteResponseStore.OpenAsync(Path.Combine(folder, "answers.sqlite"));
        harness = new Harness(server, options, cache, miniLm.Generator, loggerFactory);
        return harness;
    }

    /// <summary>Makes a retry profile quick (2 retries, 20 ms doubling to 50 ms), keeping its attempt timeout and Retry-After cap.</summary>
    public static EndpointRetryOptions Fast(EndpointRetryOptions profile, int retries = 2)
    {
        profile.MaxRetryAttempts = retries;
        profile.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
        profile.MaxRetryDelay = TimeSpan.FromMilliseconds(50);
        return profile;
    }

    /// <summary>A pipeline over the cached client (or <paramref name="client"/>), with in-memory stores.</summary>
    public RpmPipeline Pipeline(Action<RpmOptions>? configure = null, IBuildCheckpointStore? checkpoints = null, IChatClient? client = null)
    {
        var options = new RpmOptions { ChatOptions = new ChatOptions { ModelId = Server.Model.ModelId, Temperature = 0 } };
        configure?.Invoke(options);
        client ??= Cached;
        return new RpmPipeline(
            client,
            new FeatureExtractor(client, options),
            new FactorConstructor(client, options),
            new StatisticsBuilder(),
            new ReasoningPathBuilder(client, options),
            new FeatureRetriever(Embeddings, options),
            new InMemoryUserModelStore(),
            checkpoints ?? new InMemoryBuildCheckpointStore(),
            options);
    }

    /// <summary>Builds the standard test user (4 movies: 2N + 1 = 9 calls) with the cooperative model.</summary>
    public async Task<UserModel> BuildAsync(RpmPipeline pipeline, int items = 4) =>
        await pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(items));

    public Task<long> CachedAnswersAsync() => Cache.CountAsync();

    public async ValueTask DisposeAsync()
    {
        Cached.Dispose();
        await Cache.DisposeAsync();
        await Server.DisposeAsync();
    }
}
