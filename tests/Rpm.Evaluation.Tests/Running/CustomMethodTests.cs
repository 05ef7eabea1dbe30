using Microsoft.Extensions.AI;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Running;

public sealed class CustomMethodTests
{
    [Fact]
    public async Task A_method_of_your_own_runs_beside_the_built_in_ones_with_its_calls_counted_and_cached()
    {
        EvaluationDataset data = SmallData.Tags();
        string cache = Path.Combine(TestFiles.NewFolder(), "answers.sqlite");
        var chat = new EvalChatClient { Respond = r => r.Messages[0].Text == "Tag it." ? """{"answer": "classic"}""" : null };
        var runner = new EvaluationRunner(new EvaluationRunnerOptions { CachePath = cache, ModelId = "fake-model" });

        EvaluationResult first = await runner.RunAsync(data, [new AskOnceMethod(), new ZeroShotMethod()], chat, null);
        int calls = chat.CallCount;
        EvaluationResult second = await runner.RunAsync(data, [new AskOnceMethod(), new ZeroShotMethod()], chat, null);

        MethodResult mine = first.Methods[0];
        Assert.Equal("ask-once", mine.Name);
        Assert.All(mine.Predictions.Items, p => Assert.Equal("classic", p.Value));
        Assert.Equal(1.0 / 3.0, mine.Metrics.Values[LampMetrics.Accuracy], 12);
        Assert.Equal(2, mine.BuildUsage.Calls);
        Assert.Equal(0, mine.QueryUsage.Calls);
        Assert.Equal(calls, chat.CallCount);
        Assert.Equal(2, second.Methods[0].BuildUsage.CachedCalls);
    }

    /// <summary>Asks the model once per user for a tag, then answers every query with it.</summary>
    private sealed class AskOnceMethod : IEvaluationMethod
    {
        public string Name => "ask-once";

        public string Description => "One tag per user, asked once.";

        public bool RequiresChatModel => true;

        public string CacheScope => Name;

        public string? CheckApplicable(EvaluationDataset dataset) => dataset.Task.Kind == RpmTaskKind.Classification ? null : "classification only.";

        public async Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken)
        {
            ChatResponse response = await context.RequireChatClient().GetResponseAsync(
                [new ChatMessage(ChatRole.System, "Tag it."), new ChatMessage(ChatRole.User, "<data>{}</data>")],
                new ChatOptions { ResponseFormat = ChatResponseFormat.Json },
                cancellationToken);
            return response.Text.Contains("classic", StringComparison.Ordinal) ? "classic" : "comedy";
        }

        public Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken) =>
            Task.FromResult(new MethodAnswer((string)state!, true));
    }
}
