using Rpm.Tests.Pipeline;

namespace Rpm.Tests.Storage;

/// <summary>The pipeline's model cache: bounded by its byte limit, and never serving a model under a tag it was not read with.</summary>
public sealed class UserModelCacheTests
{
    private static UserModel Model(string user, int items, int dimensions = 384, string reasoning = "Sci-Fi drives this user.")
    {
        var random = new Random(items);
        ReasoningPath[] paths = [.. Enumerable.Range(0, items).Select(i => new ReasoningPath(
            new HistoryItem($"i{i}", $"Movie {i} (1990). Genres: Action, Sci-Fi.", "4.0"),
            [new Feature("Sci-Fi genre", "labelled Sci-Fi", "Imagination")],
            reasoning,
            (float[])[.. Enumerable.Range(0, dimensions).Select(_ => (float)random.NextDouble())]))];
        return new UserModel(user, TestPipelines.Rating, [], paths);
    }

    /// <summary>Passes every call to an in-memory store (which the cache would otherwise skip) and counts the model reads.</summary>
    private sealed class CountingStore : IUserModelStore
    {
        private readonly IUserModelStore _inner = new InMemoryUserModelStore();

        public int ModelReads { get; private set; }

        public Task<UserModel?> GetAsync(string userId, CancellationToken cancellationToken = default)
        {
            ModelReads++;
            return _inner.GetAsync(userId, cancellationToken);
        }

        public Task<string?> GetETagAsync(string userId, CancellationToken cancellationToken = default) => _inner.GetETagAsync(userId, cancellationToken);

        public Task<UserModel> SaveAsync(UserModel model, long? expectedVersion, CancellationToken cancellationToken = default) => _inner.SaveAsync(model, expectedVersion, cancellationToken);

        public Task<bool> DeleteAsync(string userId, CancellationToken cancellationToken = default) => _inner.DeleteAsync(userId, cancellationToken);

        public Task<IReadOnlyList<string>> ListUserIdsAsync(CancellationToken cancellationToken = default) => _inner.ListUserIdsAsync(cancellationToken);
    }

    [Fact]
    public void A_thousand_item_model_of_384_dimensions_is_estimated_at_about_three_megabytes()
    {
        long size = UserModelCache.EstimateSize(Model("u", 1000));

        Assert.InRange(size, 2_800_000, 3_600_000);                       // 1,000 x (2 x 1,536 bytes of floats + text)
        Assert.True(UserModelCache.EstimateSize(Model("u", 2000)) > 1.9 * size);
    }

    [Fact]
    public async Task A_model_larger_than_the_limit_is_never_kept_and_every_read_goes_to_the_store()
    {
        var store = new CountingStore();
        await store.SaveAsync(Model("u1", 50), 0);
        using var cache = new UserModelCache(store, new RpmOptions { UserModelCacheSize = 1024 });

        for (int i = 0; i < 3; i++)
        {
            Assert.NotNull(await cache.GetAsync("u1", CancellationToken.None));
        }

        Assert.Equal(3, store.ModelReads);
    }

    [Fact]
    public async Task A_kept_model_is_served_until_the_stores_tag_changes_and_forgotten_when_the_model_is_deleted()
    {
        var store = new CountingStore();
        await store.SaveAsync(Model("u1", 5, reasoning: "first"), 0);
        using var cache = new UserModelCache(store, new RpmOptions());

        UserModel first = (await cache.GetAsync("u1", CancellationToken.None))!;
        Assert.Same(first, await cache.GetAsync("u1", CancellationToken.None));
        Assert.Equal(1, store.ModelReads);

        await store.SaveAsync(Model("u1", 5, reasoning: "second"), 1);      // another host saves
        UserModel second = (await cache.GetAsync("u1", CancellationToken.None))!;
        Assert.Equal("second", second.Paths[0].Reasoning);
        Assert.Equal(2, store.ModelReads);

        await store.DeleteAsync("u1");
        Assert.Null(await cache.GetAsync("u1", CancellationToken.None));
        await store.SaveAsync(Model("u1", 5, reasoning: "rebuilt"), 0);     // version 1 again, a new tag
        Assert.Equal("rebuilt", (await cache.GetAsync("u1", CancellationToken.None))!.Paths[0].Reasoning);
    }

    [Fact]
    public async Task What_is_tied_to_a_kept_model_is_told_when_the_model_leaves_the_cache()
    {
        var store = new CountingStore();
        await store.SaveAsync(Model("u1", 5), 0);
        using var cache = new UserModelCache(store, new RpmOptions());
        string etag = (await cache.GetETagAsync("u1", CancellationToken.None))!;
        Assert.Null(cache.Lifetime("u1", etag));                           // nothing kept yet
        await cache.GetAsync("u1", etag, CancellationToken.None);
        CancellationToken lifetime = cache.Lifetime("u1", etag)!.Value;
        Assert.Null(cache.Lifetime("u1", "another tag"));
        var left = new TaskCompletionSource();
        lifetime.Register(left.SetResult);

        cache.Invalidate("u1");                                            // this process saved the user's model

        await left.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(lifetime.IsCancellationRequested);
    }
}
