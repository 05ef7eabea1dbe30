using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Rpm.Embeddings.MiniLM;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;
using Rpm.Tests.Telemetry;

namespace Rpm.Tests.Chat;

/// <summary>
/// A live turn through UseRpm(): whatever fails while personalizing (the feature call hangs, the embedding generator
/// throws), the turn reaches the app's model unpersonalized and the reason is reported in the callback, the log, the
/// metric and the span; the app can ask for the failure instead. And caching composes without serving one user's
/// personalized answer to another.
/// </summary>
[Collection(MiniLmCollection.Name)]
public sealed class LiveTurnTests(MiniLmFixture miniLm)
{
    private const string Message = "Should I watch Aliens (1986)? Genres: Action, Adventure, Horror, Sci-Fi.";

    private static ChatOptions For(string user) => new() { AdditionalProperties = new() { [RpmChatClient.UserIdKey] = user } };

    private async Task<(RpmPipeline Pipeline, FakeChatClient Stages, InMemoryUserModelStore Store)> BuildAsync(params string[] users)
    {
        var stages = new FakeChatClient();
        var store = new InMemoryUserModelStore();
        RpmPipeline pipeline = TestPipelines.Create(stages, miniLm.Generator, store: store);
        foreach (string user in users.Length == 0 ? ["u1"] : users)
        {
            await pipeline.BuildUserModelAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(12));
        }

        stages.Reset();
        return (pipeline, stages, store);
    }

    [Fact]
    public async Task A_feature_call_that_hangs_is_abandoned_at_the_timeout_and_the_turn_goes_on_unpersonalized()
    {
        var (pipeline, stages, _) = await BuildAsync();
        stages.Gate = (_, ct) => Task.Delay(Timeout.Infinite, ct);
        var app = new AppChatClient();
        RpmPersonalization? seen = null;
        using IChatClient client = new ChatClientBuilder(app)
            .UseRpm(pipeline, o => { o.PersonalizationTimeout = TimeSpan.FromMilliseconds(200); o.OnPersonalized = p => seen = p; })
            .Build();

        ChatResponse response = await client.GetResponseAsync(Message, For("u1"));

        Assert.Equal("You will like it.", response.Text);
        var (_, sent) = Assert.Single(app.Requests);
        Assert.Null(sent?.Instructions);                                  // nothing was added
        Assert.NotNull(seen);
        Assert.False(seen.IsPersonalized);
        Assert.Contains("timeout of 0.2 s", seen.FailureReason, StringComparison.Ordinal);
        Assert.IsType<TimeoutException>(seen.Exception);
        Assert.Empty(seen.Instructions);
    }

    [Fact]
    public async Task Asked_to_throw_a_timeout_fails_the_turn_with_a_TimeoutException_and_the_app_model_is_not_called()
    {
        var (pipeline, stages, _) = await BuildAsync();
        stages.Gate = (_, ct) => Task.Delay(Timeout.Infinite, ct);
        var app = new AppChatClient();
        using IChatClient client = new ChatClientBuilder(app)
            .UseRpm(pipeline, o => { o.PersonalizationTimeout = TimeSpan.FromMilliseconds(200); o.ThrowOnPersonalizationFailure = true; })
            .Build();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => client.GetResponseAsync(Message, For("u1")));

        Assert.Contains("'u1'", error.Message, StringComparison.Ordinal);
        Assert.Empty(app.Requests);
    }

    [Fact]
    public async Task A_failing_embedding_generator_leaves_the_turn_unpersonalized_and_is_reported_in_log_metric_and_span()
    {
        using var telemetry = new TelemetryCapture();
        var stages = new FakeChatClient();
        var store = new InMemoryUserModelStore();
        RpmPipeline builder = TestPipelines.Create(stages, miniLm.Generator, store: store);
        await builder.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(8));

        // The same store served by a process whose embedding model is gone: a real generator, disposed.
        var broken = new MiniLmEmbeddingGenerator();
        broken.Dispose();
        RpmPipeline pipeline = TelemetryPipeline(telemetry, stages, broken, store);
        MetricCollector<double> durations = telemetry.Collect<double>(RpmTelemetry.PersonalizeDurationMetric);
        var app = new AppChatClient();
        RpmPersonalization? seen = null;
        using IChatClient client = new ChatClientBuilder(app).UseRpm(pipeline, o => o.OnPersonalized = p => seen = p).Build();

        using (telemetry.StartRoot())
        {
            ChatResponse response = await client.GetResponseAsync(Message, For("u1"));
            Assert.Equal("You will like it.", response.Text);
        }

        Assert.Null(Assert.Single(app.Requests).Options!.Instructions);
        Assert.NotNull(seen);
        Assert.IsType<ObjectDisposedException>(seen.Exception);
        Assert.Contains("ObjectDisposedException", seen.FailureReason, StringComparison.Ordinal);

        var log = Assert.Single(telemetry.Events(3002));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, log.Level);
        Assert.Contains("unpersonalized", log.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("u1", log.Message, StringComparison.Ordinal);     // user ids are pseudonymized

        CollectedMeasurement<double> measured = Assert.Single(durations.GetMeasurementSnapshot());
        Assert.Equal("failed", measured.Tags["rpm.outcome"]);
        Assert.Equal(typeof(ObjectDisposedException).FullName, measured.Tags["error.type"]);

        Activity span = telemetry.Span("rpm.personalize");
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("failed", span.GetTagItem("rpm.outcome"));
        Assert.Contains(telemetry.ChildrenOf(span), s => s.DisplayName == "rpm.store.read");
        Assert.Contains(telemetry.ChildrenOf(span), s => s.DisplayName == "rpm.query_feature_extraction");
        Assert.Contains(telemetry.ChildrenOf(span), s => s.DisplayName == "rpm.retrieval" && s.Status == ActivityStatusCode.Error);
    }

    [Fact]
    public async Task A_personalized_turn_has_one_span_with_the_store_reads_the_feature_call_and_the_retrieval_under_it_and_a_repeat_is_cached()
    {
        using var telemetry = new TelemetryCapture();
        var stages = new FakeChatClient();
        var store = new InMemoryUserModelStore();
        RpmPipeline builder = TestPipelines.Create(stages, miniLm.Generator, store: store);
        await builder.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(8));
        stages.Reset();
        RpmPipeline pipeline = TelemetryPipeline(telemetry, stages, miniLm.Generator, store);
        MetricCollector<double> durations = telemetry.Collect<double>(RpmTelemetry.PersonalizeDurationMetric);
        List<RpmPersonalization> seen = [];
        using IChatClient client = new ChatClientBuilder(new AppChatClient()).UseRpm(pipeline, o => o.OnPersonalized = seen.Add).Build();

        using (telemetry.StartRoot())
        {
            await client.GetResponseAsync(Message, For("u1"));
            await client.GetResponseAsync(Message, For("u1"));           // a tool-call round of the same turn
        }

        Assert.Single(stages.Requests);
        Assert.Equal([false, true], seen.Select(p => p.IsCached));
        Assert.Equal([1, 0], seen.Select(p => p.Usage.Calls));           // the repeat cost nothing, and says so
        Assert.Equal(seen[0].Instructions, seen[1].Instructions);
        Activity[] turns = [.. telemetry.Spans.Where(s => s.DisplayName == "rpm.personalize")];
        Assert.Equal(2, turns.Length);
        Assert.Equal(["personalized", "cached"], turns.Select(t => t.GetTagItem("rpm.outcome")));
        string[] first = [.. telemetry.ChildrenOf(turns[0]).Select(s => s.DisplayName).Order(StringComparer.Ordinal)];
        Assert.Equal(["rpm.query_feature_extraction", "rpm.retrieval", "rpm.store.read", "rpm.store.read"], first);
        Assert.Equal(["rpm.store.read"], telemetry.ChildrenOf(turns[1]).Select(s => s.DisplayName));
        Assert.Equal(["personalized", "cached"], durations.GetMeasurementSnapshot().Select(m => m.Tags["rpm.outcome"]));
        Assert.Equal("memory", turns[0].GetTagItem("rpm.user_model.source"));   // the in-memory store's own instance
    }

    [Fact]
    public async Task A_turn_says_whether_its_model_came_from_memory_or_was_read_from_the_store()
    {
        using var telemetry = new TelemetryCapture();
        var stages = new FakeChatClient();
        var shared = new InMemoryUserModelStore();
        RpmPipeline builder = TestPipelines.Create(stages, miniLm.Generator, store: shared);
        await builder.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(8));
        RpmPipeline pipeline = TelemetryPipeline(telemetry, stages, miniLm.Generator, new PassThroughStore(shared));
        MetricCollector<double> durations = telemetry.Collect<double>(RpmTelemetry.PersonalizeDurationMetric);
        using IChatClient client = new ChatClientBuilder(new AppChatClient()).UseRpm(pipeline).Build();

        using (telemetry.StartRoot())
        {
            await client.GetResponseAsync(Message, For("u1"));                          // cold: read and decoded
            await client.GetResponseAsync(Message + " Or Heat (1995)?", For("u1"));      // warm: the tag matches
            UserModel current = (await shared.GetAsync("u1"))!;
            await shared.SaveAsync(current, current.Version);                           // another host saved
            await client.GetResponseAsync(Message + " Or Alien (1979)?", For("u1"));     // read again
        }

        Activity[] turns = [.. telemetry.Spans.Where(s => s.DisplayName == "rpm.personalize")];
        Assert.Equal(["store", "memory", "store"], turns.Select(t => t.GetTagItem("rpm.user_model.source")));
        Assert.Equal(["store", "memory", "store"], durations.GetMeasurementSnapshot().Select(m => m.Tags["rpm.user_model.source"]));
        Assert.All(turns, t => Assert.Equal("personalized", t.GetTagItem("rpm.outcome")));
    }

    /// <summary>A store the pipeline does not recognize as in memory, so its model cache is used.</summary>
    private sealed class PassThroughStore(IUserModelStore inner) : IUserModelStore
    {
        public Task<UserModel?> GetAsync(string userId, CancellationToken cancellationToken = default) => inner.GetAsync(userId, cancellationToken);

        public Task<string?> GetETagAsync(string userId, CancellationToken cancellationToken = default) => inner.GetETagAsync(userId, cancellationToken);

        public Task<UserModel> SaveAsync(UserModel model, long? expectedVersion, CancellationToken cancellationToken = default) => inner.SaveAsync(model, expectedVersion, cancellationToken);

        public Task<bool> DeleteAsync(string userId, CancellationToken cancellationToken = default) => inner.DeleteAsync(userId, cancellationToken);

        public Task<IReadOnlyList<string>> ListUserIdsAsync(CancellationToken cancellationToken = default) => inner.ListUserIdsAsync(cancellationToken);
    }

    [Fact]
    public async Task A_distributed_cache_above_UseRpm_keys_by_the_named_user_and_below_it_by_the_personalization()
    {
        var (pipeline, _, store) = await BuildAsync("alice", "bob");

        // Bob's model differs from Alice's: his history is three other films.
        UserModel bob = (await store.GetAsync("bob"))!;
        await store.SaveAsync(bob.WithPaths([.. bob.Paths.Skip(9)]), bob.Version);

        foreach (bool cacheAbove in new[] { true, false })
        {
            var app = new EchoingAppClient();
            IDistributedCache cache = new MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new MemoryDistributedCacheOptions()));
            ChatClientBuilder builder = new(app);
            using IChatClient client = cacheAbove
                ? builder.UseDistributedCache(cache).UseRpm(pipeline).Build()                              // the user is named in the options
                : builder.UseRpm(pipeline, o => o.UserIdResolver = (_, options) => (string?)options?.AdditionalProperties?["who"])
                         .UseDistributedCache(cache).Build();                                              // the user comes from elsewhere

            ChatOptions Naming(string user) => cacheAbove ? For(user) : new ChatOptions { AdditionalProperties = new() { ["who"] = user } };
            string aliceFirst = (await client.GetResponseAsync(Message, Naming("alice"))).Text;
            string bobFirst = (await client.GetResponseAsync(Message, Naming("bob"))).Text;
            string aliceAgain = (await client.GetResponseAsync(Message, Naming("alice"))).Text;
            string bobAgain = (await client.GetResponseAsync(Message, Naming("bob"))).Text;

            Assert.NotEqual(aliceFirst, bobFirst);                        // each answer carries its own user's personalization
            Assert.Equal(aliceFirst, aliceAgain);                         // and the cache served each user's own answer back
            Assert.Equal(bobFirst, bobAgain);
            Assert.Equal(2, app.Calls);
        }
    }

    private static RpmPipeline TelemetryPipeline(TelemetryCapture telemetry, FakeChatClient chat, IEmbeddingGenerator<string, Embedding<float>> embeddings, IUserModelStore store)
    {
        var options = new RpmOptions();
        return new RpmPipeline(
            chat,
            new FeatureExtractor(chat, options, telemetry.LoggerFactory, telemetry.MeterFactory),
            new FactorConstructor(chat, options, telemetry.LoggerFactory, telemetry.MeterFactory),
            new StatisticsBuilder(),
            new ReasoningPathBuilder(chat, options, telemetry.LoggerFactory, telemetry.MeterFactory),
            new FeatureRetriever(embeddings, options),
            store,
            new InMemoryBuildCheckpointStore(),
            options,
            new InfluenceJudge(chat, options, telemetry.LoggerFactory, telemetry.MeterFactory),
            telemetry.LoggerFactory,
            telemetry.MeterFactory);
    }

    /// <summary>The app's model, answering with a digest of the instructions it was sent (so that two users' answers differ exactly when their personalizations do).</summary>
    private sealed class EchoingAppClient : IChatClient
    {
        private int _calls;

        public int Calls => _calls;

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            string digest = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(options?.Instructions ?? string.Empty)))[..16];
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "answer for " + digest)));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
