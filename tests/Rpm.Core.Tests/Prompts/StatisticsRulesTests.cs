using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Tests.Prompts;

/// <summary>Stages 4 and 7 say what each statistic they show means, in the same words.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class StatisticsRulesTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task Reasoning_and_generation_prompts_explain_every_statistic_in_identical_sentences()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        UserModel model = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));
        await pipeline.RespondAsync(model, "movie: Aliens (1986). Genres: Action, Sci-Fi.");

        IReadOnlyList<string> rules = PromptRules.StatisticsRules(TestPipelines.Rating);
        Assert.Equal(3, rules.Count);                                   // coverage, propensity, mean answer
        Assert.Contains(rules, r => r.StartsWith("\"meanAnswer\"", StringComparison.Ordinal));
        foreach (FakeRequest request in chat.For(RpmStage.ReasoningPath).Concat(chat.For(RpmStage.Generation)))
        {
            Assert.All(rules, rule => Assert.Contains(rule, request.System, StringComparison.Ordinal));
        }

        // Each statistic the data block shows has its sentence.
        string data = chat.For(RpmStage.Generation).Single().DataText;
        Assert.Contains("\"coverage\"", data, StringComparison.Ordinal);
        Assert.Contains("\"propensity\"", data, StringComparison.Ordinal);
        Assert.Contains("\"meanAnswer\"", data, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_task_kind_gets_the_sentences_of_its_own_statistics()
    {
        IReadOnlyList<string> generation = PromptRules.StatisticsRules(RpmTask.Generation("titles", "Write the title."));
        Assert.Contains(generation, r => r.StartsWith("\"influence\"", StringComparison.Ordinal));
        Assert.Contains(generation, r => r.StartsWith("\"polarity\"", StringComparison.Ordinal));
        Assert.DoesNotContain(generation, r => r.Contains("propensity", StringComparison.Ordinal));

        IReadOnlyList<string> tags = PromptRules.StatisticsRules(RpmTask.Classification("tags", "Tag it.", ["a", "b"]));
        Assert.DoesNotContain(tags, r => r.Contains("meanAnswer", StringComparison.Ordinal));

        IReadOnlyList<string> choice = PromptRules.StatisticsRules(RpmTask.MultipleChoice("opinions", "Answer the survey question."));
        Assert.Contains(choice, r => r.Contains("always one of that input's options", StringComparison.Ordinal));
    }
}
