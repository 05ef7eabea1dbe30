using Microsoft.Extensions.AI;
using Rpm.Tests;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Storage.Tests.Pipeline;

/// <summary>
/// Live turns through UseRpm() over a real database: a warm turn reads the model's entity tag, not the model; a model
/// another host saved is used on the next turn; and a store that fails, or a row that cannot be read, leaves the turn
/// unpersonalized instead of failing it.
/// </summary>
public abstract class WarmTurnTests
{
    private const string Message = "Should I watch Aliens (1986)? Genres: Action, Adventure, Horror, Sci-Fi.";
    private readonly MiniLmFixture _miniLm;

    protected WarmTurnTests(MiniLmFixture miniLm)
    {
        _miniLm = miniLm;
    }

    protected abstract IUserModelStore OpenStore();

    /// <summary>A store over a database that cannot be reached or opened.</summary>
    protected abstract IUserModelStore OpenUnreachableStore();

    /// <summary>Garbles the stored JSON of a user's model, outside the stores.</summary>
    protected abstract Task GarbleJsonAsync(string userId);

    private static string NewUser() => "user-" + Guid.NewGuid().ToString("N")[..8];

    private static ChatOptions For(string user) => new() { AdditionalProperties = new() { [RpmChatClient.UserIdKey] = user } };

    private RpmPipeline Pipeline(FakeChatClient chat, IUserModelStore store) => TestPipelines.Create(chat, _miniLm.Generator, store: store);

    private async Task<string> BuildAsync(int items = 8)
    {
        string user = NewUser();
        await Pipeline(new FakeChatClient(), OpenStore()).BuildUserModelAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(items));
        return user;
    }

    [Fact]
    public async Task A_warm_turn_reads_the_entity_tag_and_not_the_model_and_a_repeated_request_pays_no_feature_call()
    {
        string user = await BuildAsync();
        var store = new CountingStore(OpenStore());
        var stages = new FakeChatClient();
        RpmPipeline pipeline = Pipeline(stages, store);
        var app = new AppChatClient();
        using IChatClient byMessage = new ChatClientBuilder(app).UseRpm(pipeline, o => o.Mode = RpmPersonalizationMode.MessageEmbedding).Build();
        using IChatClient byFeatures = new ChatClientBuilder(app).UseRpm(pipeline).Build();

        foreach (string title in new[] { "Heat (1995)", "Big (1988)", "Alien (1979)" })
        {
            await byMessage.GetResponseAsync($"Should I watch {title}?", For(user));
        }

        Assert.Equal(1, store.ModelReads);                               // the first turn read the model; the others its tag
        Assert.Equal(3, store.TagReads);

        await byFeatures.GetResponseAsync(Message, For(user));
        await byFeatures.GetResponseAsync(Message, For(user));           // a tool-call round of the same turn
        Assert.Single(stages.Requests);
        Assert.Equal(1, store.ModelReads);
        Assert.Equal(5, store.TagReads);
        Assert.All(app.Requests, r => Assert.Contains("<data>", r.Options!.Instructions!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_model_another_host_saved_is_used_on_the_next_turn()
    {
        string user = await BuildAsync();
        RpmPipeline hostA = Pipeline(new FakeChatClient(), OpenStore());
        List<RpmPersonalization> seen = [];
        using IChatClient client = new ChatClientBuilder(new AppChatClient())
            .UseRpm(hostA, o => { o.Mode = RpmPersonalizationMode.MessageEmbedding; o.OnPersonalized = seen.Add; })
            .Build();
        await client.GetResponseAsync(Message, For(user));

        await Pipeline(new FakeChatClient(), OpenStore()).AddHistoryAsync(user, [new HistoryItem("new-1", "Heat (1995). Genres: Action, Crime.", "4.0")]);
        await client.GetResponseAsync(Message, For(user));

        Assert.Equal([8, 9], seen.Select(p => p.UserModel!.Paths.Count));
        Assert.Equal([1L, 2L], seen.Select(p => p.UserModel!.Version));
        Assert.Equal(2, (await hostA.GetUserModelAsync(user))!.Version);
    }

    [Fact]
    public async Task A_stored_model_that_cannot_be_read_leaves_the_turn_unpersonalized_unless_the_app_asks_for_the_error()
    {
        string user = await BuildAsync();
        await GarbleJsonAsync(user);
        RpmPipeline pipeline = Pipeline(new FakeChatClient(), OpenStore());
        var app = new AppChatClient();
        RpmPersonalization? seen = null;
        using IChatClient lenient = new ChatClientBuilder(app).UseRpm(pipeline, o => o.OnPersonalized = p => seen = p).Build();
        using IChatClient strict = new ChatClientBuilder(app).UseRpm(pipeline, o => o.ThrowOnPersonalizationFailure = true).Build();

        ChatResponse response = await lenient.GetResponseAsync(Message, For(user));

        Assert.Equal("You will like it.", response.Text);
        Assert.Null(Assert.Single(app.Requests).Options!.Instructions);
        Assert.NotNull(seen);
        Assert.Null(seen.UserModel);
        Assert.IsType<InvalidDataException>(seen.Exception);
        Assert.Contains("cannot be read", seen.FailureReason, StringComparison.Ordinal);
        Assert.Contains(user, seen.FailureReason, StringComparison.Ordinal);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => strict.GetResponseAsync(Message, For(user)));
        Assert.Contains(user, error.Message, StringComparison.Ordinal);
        Assert.Single(app.Requests);
    }

    [Fact]
    public async Task A_store_that_cannot_be_reached_leaves_the_turn_unpersonalized()
    {
        RpmPipeline pipeline = Pipeline(new FakeChatClient(), OpenUnreachableStore());
        var app = new AppChatClient();
        RpmPersonalization? seen = null;
        using IChatClient client = new ChatClientBuilder(app).UseRpm(pipeline, o => o.OnPersonalized = p => seen = p).Build();

        ChatResponse response = await client.GetResponseAsync(Message, For("anyone"));

        Assert.Equal("You will like it.", response.Text);
        Assert.Single(app.Requests);
        Assert.NotNull(seen);
        Assert.Equal("anyone", seen.UserId);
        Assert.IsType<RpmStoreException>(seen.Exception);
        Assert.StartsWith("the user model store failed", seen.FailureReason, StringComparison.Ordinal);
    }

    /// <summary>Passes every call to a real store and counts the reads.</summary>
    private sealed class CountingStore(IUserModelStore inner) : IUserModelStore
    {
        private int _modelReads;
        private int _tagReads;

        public int ModelReads => _modelReads;

        public int TagReads => _tagReads;

        public Task<UserModel?> GetAsync(string userId, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _modelReads);
            return inner.GetAsync(userId, cancellationToken);
        }

        public Task<string?> GetETagAsync(string userId, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _tagReads);
            return inner.GetETagAsync(userId, cancellationToken);
        }

        public Task<UserModel> SaveAsync(UserModel model, long? expectedVersion, CancellationToken cancellationToken = default) => inner.SaveAsync(model, expectedVersion, cancellationToken);

        public Task<bool> DeleteAsync(string userId, CancellationToken cancellationToken = default) => inner.DeleteAsync(userId, cancellationToken);

        public Task<IReadOnlyList<string>> ListUserIdsAsync(CancellationToken cancellationToken = default) => inner.ListUserIdsAsync(cancellationToken);
    }
}
