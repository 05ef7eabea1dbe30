using System.Runtime.InteropServices;

namespace Rpm.Storage.Tests;

/// <summary>
/// What every persistent store must do, run against each database (real files, a real server). A derived class
/// supplies fresh store instances over one database and raw SQL access to it.
/// </summary>
public abstract class StoreContractTests
{
    /// <summary>Creates new store instances over the test class's database (as a new process would).</summary>
    protected abstract (IUserModelStore Models, IBuildCheckpointStore Checkpoints) OpenStores();

    /// <summary>Runs SQL on the database, outside the stores.</summary>
    protected abstract Task ExecuteSqlAsync(string sql);

    /// <summary>SQL that makes every later write of the user's model row fail inside the save's transaction, after the row was written.</summary>
    protected abstract string FailWritesOfUserSql(string userId);

    /// <summary>SQL that undoes <see cref="FailWritesOfUserSql"/>.</summary>
    protected abstract string StopFailingWritesSql { get; }

    /// <summary>Garbles the stored JSON of a user's model, outside the stores.</summary>
    protected abstract Task GarbleJsonAsync(string userId);

    /// <summary>Flips one byte of the stored embeddings of a user's model, outside the stores.</summary>
    protected abstract Task FlipEmbeddingByteAsync(string userId);

    protected static string NewUser() => "user-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task A_model_round_trips_with_every_part_and_embeddings_bit_exact()
    {
        var (store, _) = OpenStores();
        UserModel model = Models.Rich(NewUser());

        UserModel saved = await store.SaveAsync(model, expectedVersion: 0);
        UserModel loaded = (await OpenStores().Models.GetAsync(model.UserId))!;

        Assert.Equal(1, saved.Version);
        Assert.Equal(1, loaded.Version);
        Models.AssertSame(model.WithVersion(1), loaded);
    }

    [Fact]
    public async Task The_entity_tag_is_stable_between_saves_and_changes_with_every_save_and_after_a_delete_and_rebuild()
    {
        var (store, _) = OpenStores();
        string user = NewUser();
        Assert.Null(await store.GetETagAsync(user));

        await store.SaveAsync(Models.Simple(user, "first"), 0);
        string? first = await store.GetETagAsync(user);
        Assert.NotNull(first);
        Assert.Equal(first, await OpenStores().Models.GetETagAsync(user));     // another process reads the same tag

        await store.SaveAsync(Models.Simple(user, "second"), 1);
        string? second = await store.GetETagAsync(user);
        Assert.NotEqual(first, second);

        // Deleted and built again: the version restarts at 1, the tag must not repeat the first one's.
        Assert.True(await store.DeleteAsync(user));
        Assert.Null(await store.GetETagAsync(user));
        UserModel rebuilt = await store.SaveAsync(Models.Simple(user, "rebuilt"), 0);
        Assert.Equal(1, rebuilt.Version);
        Assert.NotEqual(first, await store.GetETagAsync(user));
    }

    [Fact]
    public async Task Versions_increase_and_a_stale_version_is_a_conflict_that_changes_nothing()
    {
        var (store, _) = OpenStores();
        string user = NewUser();
        UserModel v1 = await store.SaveAsync(Models.Simple(user, "first"), 0);
        UserModel v2 = await store.SaveAsync(Models.Simple(user, "second"), v1.Version);
        Assert.Equal(2, v2.Version);

        var stale = await Assert.ThrowsAsync<UserModelConcurrencyException>(() => store.SaveAsync(Models.Simple(user, "stale"), v1.Version));
        Assert.Equal(user, stale.UserId);
        Assert.Equal(1, stale.ExpectedVersion);
        Assert.Equal(2, stale.ActualVersion);
        var exists = await Assert.ThrowsAsync<UserModelConcurrencyException>(() => store.SaveAsync(Models.Simple(user, "new"), 0));
        Assert.Equal(2, exists.ActualVersion);
        var missing = await Assert.ThrowsAsync<UserModelConcurrencyException>(() => store.SaveAsync(Models.Simple(NewUser(), "x"), 3));
        Assert.Equal(0, missing.ActualVersion);

        Assert.Equal("second", (await store.GetAsync(user))!.Paths[0].Reasoning);
        UserModel forced = await store.SaveAsync(Models.Simple(user, "last writer"), expectedVersion: null);
        Assert.Equal(3, forced.Version);
        Assert.Equal("last writer", (await store.GetAsync(user))!.Paths[0].Reasoning);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SaveAsync(Models.Simple(user, "x"), -1));
    }

    [Fact]
    public async Task Two_concurrent_writers_one_wins_the_other_gets_a_conflict_and_no_update_is_lost()
    {
        string user = NewUser();
        UserModel base1 = await OpenStores().Models.SaveAsync(Models.Simple(user, "base"), 0);

        // Two writers (separate store instances, separate connections) read version 1 and save at the same moment.
        IUserModelStore a = OpenStores().Models, b = OpenStores().Models;
        using var start = new Barrier(2);
        async Task<Exception?> Write(IUserModelStore store, string text)
        {
            await Task.Yield();
            start.SignalAndWait();
            try
            {
                await store.SaveAsync(Models.Simple(user, text), base1.Version);
                return null;
            }
            catch (UserModelConcurrencyException ex)
            {
                return ex;
            }
        }

        Exception?[] results = await Task.WhenAll(Task.Run(() => Write(a, "from a")), Task.Run(() => Write(b, "from b")));
        Assert.Single(results, r => r is null);
        var conflict = Assert.IsType<UserModelConcurrencyException>(Assert.Single(results, r => r is not null));
        Assert.Equal(2, conflict.ActualVersion);

        // The loser reloads, applies its change on top and saves: both changes are kept.
        string winner = (await a.GetAsync(user))!.Paths[0].Reasoning;
        UserModel reloaded = (await b.GetAsync(user))!;
        string loser = winner == "from a" ? "from b" : "from a";
        await b.SaveAsync(Models.Simple(user, reloaded.Paths[0].Reasoning + " + " + loser), reloaded.Version);
        UserModel final = (await OpenStores().Models.GetAsync(user))!;
        Assert.Equal(3, final.Version);
        Assert.Equal(winner + " + " + loser, final.Paths[0].Reasoning);
    }

    [Fact]
    public async Task Two_concurrent_first_saves_of_a_user_one_wins()
    {
        string user = NewUser();
        IUserModelStore a = OpenStores().Models, b = OpenStores().Models;
        using var start = new Barrier(2);
        async Task<bool> Write(IUserModelStore store, string text)
        {
            await Task.Yield();
            start.SignalAndWait();
            try
            {
                await store.SaveAsync(Models.Simple(user, text), 0);
                return true;
            }
            catch (UserModelConcurrencyException ex)
            {
                Assert.Equal(1, ex.ActualVersion);
                return false;
            }
        }

        bool[] won = await Task.WhenAll(Task.Run(() => Write(a, "a")), Task.Run(() => Write(b, "b")));
        Assert.Single(won, w => w);
        Assert.Equal(1, (await a.GetAsync(user))!.Version);
    }

    [Fact]
    public async Task Delete_and_list_see_every_saved_user_in_ordinal_order()
    {
        var (store, _) = OpenStores();
        string prefix = NewUser();
        foreach (string suffix in new[] { "b", "B", "a", "é" })
        {
            await store.SaveAsync(Models.Simple(prefix + suffix, suffix), 0);
        }

        IReadOnlyList<string> ids = [.. (await store.ListUserIdsAsync()).Where(id => id.StartsWith(prefix, StringComparison.Ordinal))];
        Assert.Equal(new[] { "B", "a", "b", "é" }.Select(s => prefix + s), ids);
        Assert.True(await store.DeleteAsync(prefix + "a"));
        Assert.False(await store.DeleteAsync(prefix + "a"));
        Assert.Null(await store.GetAsync(prefix + "a"));
        Assert.DoesNotContain(prefix + "a", await OpenStores().Models.ListUserIdsAsync());
    }

    [Fact]
    public async Task Checkpoints_outlive_the_store_instance_are_replaced_by_key_and_cleared_per_user()
    {
        var (_, checkpoints) = OpenStores();
        string user = NewUser(), other = NewUser();
        await checkpoints.SaveAsync(user, "build:1", "features/h0", "{\"a\":1}");
        await checkpoints.SaveAsync(user, "build:1", "features/h1", "{\"b\":2}");
        await checkpoints.SaveAsync(user, "build:1", "features/h1", "{\"b\":3}");
        await checkpoints.SaveAsync(user, "build:2", "features/h0", "{\"c\":4}");
        await checkpoints.SaveAsync(other, "build:1", "features/h0", "{\"d\":5}");

        IBuildCheckpointStore reopened = OpenStores().Checkpoints;
        IReadOnlyDictionary<string, string> loaded = await reopened.LoadAsync(user, "build:1");
        Assert.Equal(2, loaded.Count);
        Assert.Equal("{\"b\":3}", loaded["features/h1"]);
        Assert.Single(await reopened.LoadAsync(user, "build:2"));

        await reopened.ClearAsync(user);
        Assert.Empty(await checkpoints.LoadAsync(user, "build:1"));
        Assert.Empty(await checkpoints.LoadAsync(user, "build:2"));
        Assert.Single(await checkpoints.LoadAsync(other, "build:1"));
    }

    [Fact]
    public async Task A_save_that_fails_midway_leaves_the_previous_model_intact()
    {
        var (store, _) = OpenStores();
        string user = NewUser();
        UserModel previous = await store.SaveAsync(Models.Rich(user), 0);

        await ExecuteSqlAsync(FailWritesOfUserSql(user));
        try
        {
            Exception failure = await Assert.ThrowsAnyAsync<Exception>(() => store.SaveAsync(Models.Simple(user, "replacement"), previous.Version));
            Assert.Contains("injected failure", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await ExecuteSqlAsync(StopFailingWritesSql);
        }

        UserModel after = (await OpenStores().Models.GetAsync(user))!;
        Models.AssertSame(previous, after);
        Assert.Equal(2, (await store.SaveAsync(Models.Simple(user, "now it works"), previous.Version)).Version);
    }

    [Fact]
    public async Task A_cancelled_save_stores_nothing()
    {
        var (store, _) = OpenStores();
        string user = NewUser();
        UserModel previous = await store.SaveAsync(Models.Simple(user, "kept"), 0);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.SaveAsync(Models.Simple(user, "cancelled"), previous.Version, cts.Token));
        UserModel after = (await store.GetAsync(user))!;
        Assert.Equal(1, after.Version);
        Assert.Equal("kept", after.Paths[0].Reasoning);
    }

    [Fact]
    public async Task A_corrupted_row_is_reported_naming_the_user_and_other_models_stay_readable()
    {
        var (store, _) = OpenStores();
        string good = NewUser(), garbled = NewUser(), flipped = NewUser();
        await store.SaveAsync(Models.Rich(good), 0);
        await store.SaveAsync(Models.Rich(garbled), 0);
        await store.SaveAsync(Models.Rich(flipped), 0);

        await GarbleJsonAsync(garbled);
        await FlipEmbeddingByteAsync(flipped);

        var json = await Assert.ThrowsAsync<InvalidDataException>(() => store.GetAsync(garbled));
        Assert.Contains($"'{garbled}'", json.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", json.Message, StringComparison.Ordinal);
        var bytes = await Assert.ThrowsAsync<InvalidDataException>(() => store.GetAsync(flipped));
        Assert.Contains($"'{flipped}'", bytes.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", bytes.Message, StringComparison.Ordinal);

        Models.AssertSame(Models.Rich(good).WithVersion(1), (await store.GetAsync(good))!);
        Assert.Contains(garbled, await store.ListUserIdsAsync());

        // The damaged model can be replaced (its version is still known) or deleted; nothing else changed.
        Assert.Equal(2, (await store.SaveAsync(Models.Simple(garbled, "rebuilt"), 1)).Version);
        Assert.Equal("rebuilt", (await store.GetAsync(garbled))!.Paths[0].Reasoning);
        Assert.True(await store.DeleteAsync(flipped));
    }
}

/// <summary>Models that use every part of <see cref="UserModel"/>.</summary>
public static class Models
{
    public static UserModel Simple(string userId, string reasoning) =>
        new(userId, Rpm.Tests.Pipeline.TestPipelines.Rating, [], [new ReasoningPath(new HistoryItem("h0", "Alien (1979). Genres: Horror, Sci-Fi.", "4.5"), [new Feature("Sci-Fi genre", "labelled Sci-Fi", "Imagination")], reasoning, new float[] { 0.5f, -0.25f })]);

    /// <summary>A generation-task model with every optional field set and embeddings full of awkward floats.</summary>
    public static UserModel Rich(string userId)
    {
        var task = RpmTask.Generation("review-writing", "Write the review this user would write for a product.");
        var statistics = new[]
        {
            new FactorStatistics(new Factor("Taste", "How flavour shapes the review."), 3, new Dictionary<string, int> { ["5"] = 2, ["1"] = 1 }, new Dictionary<string, double> { ["5"] = 2 / 3d, ["1"] = 1 / 3d }, 3.6666666666666665, 4, 0.5, 0.25, 0.25),
            new FactorStatistics(new Factor("Price", null), 0),
        };
        float[] awkward = [0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, 1e-38f, 3.14159274f, float.NaN, BitConverter.Int32BitsToSingle(0x7FC00001), float.PositiveInfinity, float.NegativeInfinity];
        var random = new Random(userId.GetHashCode(StringComparison.Ordinal));
        float[] big = [.. Enumerable.Range(0, 384).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        var paths = new[]
        {
            new ReasoningPath(
                new HistoryItem("i1", "Crunchy peanut butter — \"unicode ✓\" and\nnewlines", "Tastes great, worth the price.", new DateTimeOffset(2024, 2, 29, 13, 45, 7, 123, TimeSpan.FromHours(-5))),
                [new Feature("Taste", "the flavour", "Taste", influential: true, polarity: FeaturePolarity.Positive), new Feature("Cost", "the price", null, influential: false)],
                "Taste drives this user; they praise flavour first.",
                awkward),
            new ReasoningPath(
                new HistoryItem("i2", "Plain rice cakes", "Bland.", null, ["a", "b"]),
                [new Feature("Texture", "dry", "Taste", influential: true, polarity: FeaturePolarity.Negative)],
                "Bland food gets short reviews.",
                big),
            new ReasoningPath(new HistoryItem("i3", "Not yet indexed", "Fine."), [], string.Empty),
        };
        return new UserModel(userId, task, statistics, paths)
        {
            ChatModelId = "chat-model-x",
            EmbeddingModelId = "embed-y",
            EmbeddingDimensions = 384,
            CreatedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)),
            UpdatedAt = new DateTimeOffset(2025, 6, 7, 8, 9, 10, TimeSpan.Zero),
            BuildUsage = new ModelUsage(7, 1234, 567, 2),
        };
    }

    /// <summary>Asserts two models are the same in every part: the JSON of everything but the embeddings, and the embeddings bit for bit.</summary>
    public static void AssertSame(UserModel expected, UserModel actual)
    {
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.Paths.Count, actual.Paths.Count);
        for (int i = 0; i < expected.Paths.Count; i++)
        {
            Assert.True(
                MemoryMarshal.AsBytes(expected.Paths[i].Embedding.Span).SequenceEqual(MemoryMarshal.AsBytes(actual.Paths[i].Embedding.Span)),
                $"The embedding of path {i} differs.");
        }

        Assert.Equal(Json(expected), Json(actual));
    }

    private static string Json(UserModel model) =>
        System.Text.Encoding.UTF8.GetString(RpmJson.SerializeUserModel(model.WithPaths([.. model.Paths.Select(p => p.WithEmbedding(default))])));
}
