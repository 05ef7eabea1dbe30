using Microsoft.Extensions.AI;
using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

/// <summary>A chat client may defer a call (its answer comes later, e.g. from an offline batch): the build asks the stage's other calls, checkpoints what was answered and resumes.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class DeferredCallTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task A_deferred_feature_call_lets_every_other_item_be_asked_and_the_resumed_build_pays_only_for_it()
    {
        var deferred = new HashSet<string> { "h2", "h5" };
        var chat = new FakeChatClient
        {
            Fail = r => r.Stage == RpmStage.FeatureExtraction && deferred.Contains(r.ItemId!) ? new RpmCallDeferredException("The answer is not available yet.") : null,
        };
        var checkpoints = new InMemoryBuildCheckpointStore();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o => o.MaxConcurrency = 1, checkpoints: checkpoints);
        List<HistoryItem> history = TestPipelines.MovieHistory(8);

        var ex = await Assert.ThrowsAsync<RpmCallDeferredException>(() => pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history));

        // Every item was asked (a failure would have stopped new calls), the two deferred ones only once (no repair turn).
        Assert.Equal(2, ex.DeferredCalls);
        Assert.Contains("'u1'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(8, chat.For(RpmStage.FeatureExtraction).Count);
        Assert.All(chat.Requests, r => Assert.Equal(1, r.Attempt));
        Assert.Empty(chat.For(RpmStage.FactorConstruction));
        Assert.Null(await pipeline.GetUserModelAsync("u1"));

        chat.Fail = null;
        chat.Reset();
        UserModel model = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history);

        Assert.Equal(["h2", "h5"], chat.For(RpmStage.FeatureExtraction).Select(r => r.ItemId!).Order(StringComparer.Ordinal));
        Assert.Equal(8, model.Paths.Count);
        Assert.Equal(2 * 8 + 1, model.BuildUsage.Calls); // deferred calls were never counted as paid
    }

    [Fact]
    public async Task A_deferred_factor_call_throws_a_deferral_for_the_user_and_keeps_the_features()
    {
        var chat = new FakeChatClient { Fail = r => r.Stage == RpmStage.FactorConstruction ? new RpmCallDeferredException("The answer is not available yet.") : null };
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        List<HistoryItem> history = TestPipelines.MovieHistory(4);

        var ex = await Assert.ThrowsAsync<RpmCallDeferredException>(() => pipeline.BuildUserModelAsync("alice", TestPipelines.Rating, history));
        Assert.Equal(1, ex.DeferredCalls);
        Assert.Contains("'alice'", ex.Message, StringComparison.Ordinal);

        chat.Fail = null;
        chat.Reset();
        await pipeline.BuildUserModelAsync("alice", TestPipelines.Rating, history);
        Assert.Empty(chat.For(RpmStage.FeatureExtraction));
        Assert.Single(chat.For(RpmStage.FactorConstruction));
    }

    [Fact]
    public async Task A_real_failure_beside_a_deferral_is_the_error()
    {
        var chat = new FakeChatClient
        {
            Fail = r => r.Stage != RpmStage.FeatureExtraction ? null : r.ItemId == "h1" ? new HttpRequestException("503") : new RpmCallDeferredException("The answer is not available yet."),
        };
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o => o.MaxConcurrency = 1);

        var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4)));
        Assert.Equal(RpmStage.FeatureExtraction, ex.Stage);
        Assert.Equal("h1", ex.ItemId);
    }

    [Fact]
    public async Task A_validated_read_passes_a_deferral_through_without_repair_or_wrapping()
    {
        var chat = new FakeChatClient { Fail = _ => new RpmCallDeferredException("queued") };
        var request = new ValidatedOutputRequest<Rpm.Tests.StructuredOutput.PlainAnswer, string>(
            Rpm.Tests.StructuredOutput.PlainAnswerContext.Default.PlainAnswer, (o, _) => OutputValidation<string>.Valid(o.Answer))
        {
            Stage = RpmStage.FeatureExtraction,
            ItemId = "item-1",
        };

        var ex = await Assert.ThrowsAsync<RpmCallDeferredException>(() => chat.GetValidatedResponseAsync([new ChatMessage(ChatRole.User, "hi")], request, new ValidatedOutputOptions { MaxRepairs = 3 }));

        Assert.Equal("queued", ex.Message);
        Assert.Single(chat.Requests);
    }
}
