using Rpm.Evaluation;
using Rpm.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Caching;

/// <summary>
/// The evaluation's answer cache keeps only answers RPM's stages accepted: the stages' validated reads (compiled into
/// Rpm.Core) and the cache (compiled into Rpm.Evaluation) each have their own copy of the shared structured-output source,
/// and meet through one process-wide slot.
/// </summary>
public sealed class AnswerCacheAcceptanceTests
{
    private static readonly RpmTask Task = RpmTask.Rating("movies", "Rate the movie.", new RatingScale(1, 5, 1));

    private static async Task<(FakeChatClient Model, FeatureExtractionResult Result)> ExtractAsync(string path, Func<FakeRequest, string?> respond, int repairs = 1)
    {
        var model = new FakeChatClient { Respond = respond };
        await using SqliteResponseStore store = await SqliteResponseStore.OpenAsync(path);
        var cached = new SqliteCachingChatClient(model, store, "test", model.ModelId);
        var extractor = new FeatureExtractor(cached, new RpmOptions { MaxOutputRetries = repairs });
        return (model, await extractor.ExtractAsync(new FeatureExtractionRequest(Task, "item-1", "A slow, quiet film.")));
    }

    [Fact]
    public async Task An_answer_a_repair_turn_fixed_is_cached_valid_and_the_invalid_first_answer_never_is()
    {
        string path = Path.Combine(TestFiles.NewFolder(), "answers.db");
        int calls = 0;
        var (first, firstResult) = await ExtractAsync(path, request => ++calls == 1
            ? """{"features": []}"""
            : """{"features": [{"name": "Slow burn", "context": "a quiet start", "factor": "Pacing"}]}""");

        // No repair turn now: the first request's key must hold the accepted answer, not the invalid one it was sent first.
        var (second, secondResult) = await ExtractAsync(path, _ => throw new InvalidOperationException("The cache should have answered."), repairs: 0);

        Assert.Equal(2, first.CallCount);
        Assert.Equal(2, firstResult.Usage.Calls);
        Assert.Equal(0, second.CallCount);
        Assert.Equal("Slow burn", secondResult.Features.Single().Name);
    }

    [Fact]
    public async Task An_answer_invalid_on_every_attempt_is_not_cached_so_a_rerun_asks_again()
    {
        string path = Path.Combine(TestFiles.NewFolder(), "answers.db");
        await Assert.ThrowsAsync<RpmModelOutputException>(() => ExtractAsync(path, _ => """{"features": []}"""));

        var (second, secondResult) = await ExtractAsync(path, _ => """{"features": [{"name": "Score", "context": "the music", "factor": null}]}""", repairs: 0);

        Assert.Equal(1, second.CallCount);
        Assert.Equal("Score", secondResult.Features.Single().Name);
    }
}
