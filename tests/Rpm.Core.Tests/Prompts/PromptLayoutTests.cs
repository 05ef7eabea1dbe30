using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Tests.Prompts;

/// <summary>What every call of a stage shares within a user's build comes first, so providers' prefix caches serve it once.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class PromptLayoutTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task Every_call_of_a_stage_repeats_the_same_text_up_to_the_item()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        UserModel model = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(6));
        await pipeline.RespondAsync(model, "movie: Aliens (1986). Genres: Action, Sci-Fi.");
        await pipeline.RespondAsync(model, "movie: Heat (1995). Genres: Action, Crime.");

        foreach (RpmStage stage in new[] { RpmStage.FeatureExtraction, RpmStage.ReasoningPath, RpmStage.QueryFeatureExtraction, RpmStage.Generation })
        {
            IReadOnlyList<FakeRequest> calls = chat.For(stage);
            Assert.True(calls.Count >= 2, $"{stage}: {calls.Count} calls");

            // The text before the first per-item field is identical in every call of the stage ...
            string[] shared = [.. calls.Select(r => r.AllText[..FirstItemField(r.AllText)])];
            Assert.All(shared, s => Assert.Equal(shared[0], s));

            // ... and holds the user's statistics wherever the stage shows them.
            if (stage is not RpmStage.FeatureExtraction)
            {
                Assert.Contains("\"factors\"", shared[0], StringComparison.Ordinal);
            }
        }
    }

    private static int FirstItemField(string text)
    {
        int data = text.IndexOf("<data>", StringComparison.Ordinal);
        int[] at = [.. new[] { "\"itemId\"", "\"query\"" }.Select(f => text.IndexOf(f, data, StringComparison.Ordinal)).Where(i => i >= 0)];
        return at.Min();
    }
}
