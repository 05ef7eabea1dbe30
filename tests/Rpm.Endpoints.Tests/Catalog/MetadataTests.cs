using Rpm.Endpoints.Tests.Server;

namespace Rpm.Endpoints.Tests.Catalog;

/// <summary>The response's metadata is read, never ignored: cut-off answers, refusals and filter stops, and what is cached after each.</summary>
[Collection(EndpointCollection.Name)]
public sealed class MetadataTests(MiniLm miniLm)
{
    private const string Query = "movie: Aliens (1986). Genres: Action, Sci-Fi.";

    [Fact]
    public async Task An_answer_cut_at_the_token_limit_is_repaired_by_asking_for_a_shorter_one_and_only_the_valid_answer_is_cached()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);
        harness.Server.Behave = r => r.Stage == RpmStage.Generation && !r.IsRepair
            ? new Reply { Content = "{\"rationale\": \"This user's factor statistics show that sci-fi movies", FinishReason = "length" }
            : null;

        RpmResponse response = await pipeline.RespondAsync(model, Query);
        int paid = harness.Server.PaidCalls;

        Assert.True(TestRating(response.Answer));
        ServedRequest repair = harness.Server.Requests.Last();
        Assert.True(repair.IsRepair);
        Assert.Contains("Reply again with a shorter answer", repair.Request.Messages[^1].Text, StringComparison.Ordinal);

        // A re-run is served from the cache: the valid answer was also kept under the first request's key.
        harness.Server.Behave = null;
        RpmResponse again = await pipeline.RespondAsync(model, Query);
        Assert.Equal(response.Answer, again.Answer);
        Assert.Equal(paid, harness.Server.PaidCalls);
    }

    [Fact]
    public async Task An_answer_cut_twice_fails_as_truncated_nothing_is_cached_and_a_rerun_asks_again()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);
        long cachedBefore = await harness.CachedAnswersAsync();
        harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { Content = "{\"rationale\": \"Because", FinishReason = "length" } : null;

        var ex = await Assert.ThrowsAsync<RpmModelOutputException>(() => pipeline.RespondAsync(model, Query));

        Assert.Equal(ModelOutputFailure.Truncated, ex.Failure);
        Assert.Equal(2, ex.Attempts);
        Assert.Equal(cachedBefore + 1, await harness.CachedAnswersAsync()); // the query's features, not the cut answers
        harness.Server.Behave = null;
        int requests = harness.Server.ChatRequests;
        RpmResponse response = await pipeline.RespondAsync(model, Query);
        Assert.Equal(requests + 1, harness.Server.ChatRequests); // features from the cache, the answer asked again
        Assert.True(TestRating(response.Answer));
    }

    [Fact]
    public async Task A_refusal_is_its_own_exception_with_the_models_words_and_is_not_retried_or_cached()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);
        long cachedBefore = await harness.CachedAnswersAsync();
        harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { NullContent = true, Refusal = "I'm sorry, I can't help with predicting this person's preferences." } : null;

        var ex = await Assert.ThrowsAsync<RpmRefusalException>(() => pipeline.RespondAsync(model, Query));

        Assert.Equal("I'm sorry, I can't help with predicting this person's preferences.", ex.RefusalText);
        Assert.Equal(ModelOutputFailure.Refused, ex.Failure);
        Assert.Contains("refused stage Generation", ex.Message, StringComparison.Ordinal);
        Assert.Single(harness.Server.Requests, r => r.Stage == RpmStage.Generation);
        Assert.Equal(cachedBefore + 1, await harness.CachedAnswersAsync());
    }

    [Fact]
    public async Task A_content_filter_stop_says_so_and_is_not_retried_or_cached()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);
        long cachedBefore = await harness.CachedAnswersAsync();
        harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { Content = string.Empty, FinishReason = "content_filter" } : null;

        var ex = await Assert.ThrowsAsync<RpmModelOutputException>(() => pipeline.RespondAsync(model, Query));

        Assert.Equal(ModelOutputFailure.ContentFiltered, ex.Failure);
        Assert.Contains("content filter", ex.Message, StringComparison.Ordinal);
        Assert.Single(harness.Server.Requests, r => r.Stage == RpmStage.Generation);
        Assert.Equal(cachedBefore + 1, await harness.CachedAnswersAsync());
    }

    [Fact]
    public async Task An_answer_outside_the_scale_is_repaired_never_cached_and_a_rerun_after_success_pays_nothing()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);
        harness.Server.Behave = r => r.Stage == RpmStage.Generation && !r.IsRepair ? new Reply { Content = "{\"rationale\": \"Loves it.\", \"citations\": [], \"answer\": \"7\"}" } : null;

        RpmResponse response = await pipeline.RespondAsync(model, Query);
        Assert.Equal(3, response.Usage.Calls);
        Assert.Contains("7 is outside the scale 0.5 to 5.0", harness.Server.Requests.Last().Request.Messages[^1].Text, StringComparison.Ordinal);

        int paid = harness.Server.PaidCalls;
        RpmResponse again = await pipeline.RespondAsync(model, Query);
        Assert.Equal(paid, harness.Server.PaidCalls);
        Assert.Equal(response.Answer, again.Answer);
    }

    private static bool TestRating(string answer) => Rpm.Tests.Pipeline.TestPipelines.Rating.TryNormalizeAnswer(answer, null, out _, out _);
}
