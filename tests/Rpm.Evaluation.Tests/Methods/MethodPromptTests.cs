using Microsoft.Extensions.AI;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Methods;

public sealed class MethodPromptTests
{
    [Fact]
    public async Task Zero_shot_sends_only_the_query_with_the_task_and_answer_rule()
    {
        EvaluationDataset data = SmallData.Tags();
        var chat = new EvalChatClient();
        var method = new ZeroShotMethod();
        EvaluationUser user = data.Users[0];

        object? state = await method.PrepareUserAsync(SmallData.Context(data, chat), user, default);
        MethodAnswer answer = await method.AnswerAsync(SmallData.Context(data, chat), user, state, user.Queries[0], default);

        EvalRequest request = Assert.Single(chat.Requests);
        Assert.Equal("baseline_answer", request.SchemaName);
        Assert.Equal(user.Queries[0].Input, request.Data["query"]!.GetValue<string>());
        Assert.False(request.Data.ContainsKey("examples"));
        Assert.False(request.Data.ContainsKey("profileSummary"));
        Assert.Contains(data.Task.Description, request.System, StringComparison.Ordinal);
        Assert.Contains("one of these labels: sci-fi, based on a book", request.System, StringComparison.Ordinal);
        Assert.DoesNotContain(BaselinePrompts.CotInstruction, request.System, StringComparison.Ordinal);
        Assert.DoesNotContain(user.History[0].Input, request.AllText, StringComparison.Ordinal);
        Assert.True(answer.IsValid);
        Assert.Equal("sci-fi", answer.Answer);
    }

    [Fact]
    public async Task Chain_of_thought_asks_for_reasoning_first_and_returns_it()
    {
        EvaluationDataset data = SmallData.Tags();
        var chat = new EvalChatClient();
        EvaluationUser user = data.Users[0];

        MethodAnswer answer = await new ZeroShotMethod(chainOfThought: true).AnswerAsync(SmallData.Context(data, chat), user, null, user.Queries[0], default);

        EvalRequest request = Assert.Single(chat.Requests);
        Assert.Equal("baseline_cot_answer", request.SchemaName);
        Assert.Contains(BaselinePrompts.CotInstruction, request.System, StringComparison.Ordinal);
        Assert.Contains("\"reasoning\"", request.System, StringComparison.Ordinal);
        Assert.StartsWith("FAKE REASONING", answer.Rationale, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RAG_BM25_keys_on_the_raw_query_and_sends_K_3_examples_with_the_users_answers()
    {
        EvaluationDataset data = SmallData.Tags();
        var chat = new EvalChatClient();
        var method = new RagMethod(RagRetriever.Bm25);
        EvaluationUser user = data.Users[0];
        EvaluationQuery query = user.Queries[0];

        object? state = await method.PrepareUserAsync(SmallData.Context(data, chat), user, default);
        MethodAnswer answer = await method.AnswerAsync(SmallData.Context(data, chat), user, state, query, default);

        EvalRequest request = Assert.Single(chat.Requests);
        var examples = request.Data["examples"]!.AsArray();
        Assert.Equal(3, examples.Count);
        int[] expected = [.. new Bm25Index(user.History.Select(h => h.Input)).Search(query.Input, 3).Select(h => h.Index)];
        Assert.Equal(expected.Select(i => user.History[i].Input), examples.Select(e => e!["input"]!.GetValue<string>()));
        Assert.Equal(expected.Select(i => user.History[i].Output), examples.Select(e => e!["userAnswer"]!.GetValue<string>()));
        Assert.Equal(expected.Select(i => user.History[i].Id), answer.Examples.Select(e => e.ItemId));
        Assert.DoesNotContain("features", request.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RAG_dense_embeds_the_raw_query_with_the_shared_generator_and_sends_K_examples()
    {
        EvaluationDataset data = SmallData.Tags();
        var chat = new EvalChatClient();
        var embeddings = new HashingEmbeddingGenerator();
        var method = new RagMethod(RagRetriever.Dense, chainOfThought: true);
        EvaluationUser user = data.Users[0];
        EvaluationQuery query = user.Queries[1];
        MethodContext context = SmallData.Context(data, chat, embeddings);

        object? state = await method.PrepareUserAsync(context, user, default);
        MethodAnswer answer = await method.AnswerAsync(context, user, state, query, default);

        Assert.Equal("rag-dense-cot", method.Name);
        Assert.Equal([.. user.History.Select(h => h.Input), query.Input], embeddings.Inputs);
        EvalRequest request = Assert.Single(chat.Requests);
        Assert.Equal(3, request.Data["examples"]!.AsArray().Count);
        Assert.Equal("baseline_cot_answer", request.SchemaName);
        Assert.Equal(3, answer.Examples.Count);
        Assert.True(answer.Examples[0].Similarity >= answer.Examples[2].Similarity);
    }

    [Fact]
    public async Task PAG_summarizes_each_user_once_and_puts_the_summary_in_every_query_prompt()
    {
        EvaluationDataset data = SmallData.Tags();
        var chat = new EvalChatClient();
        var method = new PagMethod();
        EvaluationUser user = data.Users[0];

        object? state = await method.PrepareUserAsync(SmallData.Context(data, chat), user, default);
        foreach (EvaluationQuery query in user.Queries)
        {
            await method.AnswerAsync(SmallData.Context(data, chat), user, state, query, default);
        }

        EvalRequest summary = Assert.Single(chat.WithSchema("baseline_profile_summary"));
        Assert.Equal(5, summary.Data["history"]!.AsArray().Count);
        Assert.Equal(user.History[^1].Input, summary.Data["history"]![0]!["input"]!.GetValue<string>());
        IReadOnlyList<EvalRequest> answers = chat.WithSchema("baseline_answer");
        Assert.Equal(2, answers.Count);
        Assert.All(answers, a => Assert.Equal("FAKE SUMMARY of 5 items.", a.Data["profileSummary"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_invalid_answer_is_asked_again_once_with_the_error_then_scored_as_given()
    {
        EvaluationDataset data = SmallData.Tags();
        var chat = new EvalChatClient { Respond = r => r.Messages.Count(m => m.Role == ChatRole.Assistant) == 0 ? """{"answer": "horror"}""" : """{"answer": "classic"}""" };
        EvaluationUser user = data.Users[0];

        MethodAnswer fixedAnswer = await new ZeroShotMethod().AnswerAsync(SmallData.Context(data, chat), user, null, user.Queries[0], default);

        Assert.True(fixedAnswer.IsValid);
        Assert.Equal("classic", fixedAnswer.Answer);
        Assert.Equal(2, chat.CallCount);
        Assert.Contains("'horror' is not one of the labels", chat.Requests[1].Messages[^1].Text, StringComparison.Ordinal);

        var stubborn = new EvalChatClient { Respond = _ => "```json\n{\"answer\": \"horror\"}\n```" };
        MethodAnswer invalid = await new ZeroShotMethod().AnswerAsync(SmallData.Context(data, stubborn), user, null, user.Queries[0], default);
        Assert.False(invalid.IsValid);
        Assert.Equal("horror", invalid.Answer);
        Assert.Equal(2, stubborn.CallCount); // the answer and one repair turn, as RPM's stages
    }

    [Fact]
    public async Task RPM_builds_with_2N_plus_1_calls_and_answers_with_2_calls_a_rationale_and_K_examples()
    {
        EvaluationDataset data = SmallData.Tags();
        var chat = new EvalChatClient();
        var method = new RpmMethod();
        EvaluationUser user = data.Users[0];

        object? state = await method.PrepareUserAsync(SmallData.Context(data, chat), user, default);
        Assert.Equal((2 * user.History.Count) + 1, chat.CallCount);
        chat = new EvalChatClient();
        MethodAnswer answer = await method.AnswerAsync(SmallData.Context(data, chat), user, state, user.Queries[0], default);

        Assert.Equal(2, chat.CallCount);
        Assert.Equal(["rpm_featurelist", "rpm_answer"], chat.Requests.Select(r => r.SchemaName));
        Assert.True(answer.IsValid);
        Assert.Equal(3, answer.Examples.Count);
        Assert.All(answer.Examples, e => Assert.False(string.IsNullOrEmpty(e.Reasoning)));
        Assert.NotEmpty(answer.QueryFeatures);
        Assert.Contains("most similar past items", answer.Rationale, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_RPM_fallback_answers_from_the_user_model_without_a_call_per_query()
    {
        EvaluationDataset data = SmallData.Ratings();
        var chat = new EvalChatClient();
        var method = new RpmFallbackMethod();
        EvaluationUser user = data.Users[0];

        object? state = await method.PrepareUserAsync(SmallData.Context(data, chat), user, default);
        int buildCalls = chat.CallCount;
        MethodAnswer answer = await method.AnswerAsync(SmallData.Context(data, chat), user, state, user.Queries[0], default);

        Assert.Equal((2 * user.History.Count) + 1, buildCalls);
        Assert.Equal(buildCalls, chat.CallCount);
        Assert.True(answer.IsValid);
        Assert.True(data.Task.Scale!.TryParse(answer.Answer, out _, out _));
        Assert.Equal(3, answer.Examples.Count);
        Assert.Contains("shrunk toward the user's mean", answer.Rationale, StringComparison.Ordinal);
        Assert.Equal(RpmMethod.Scope, method.CacheScope);
    }

    [Fact]
    public async Task The_model_free_methods_need_no_chat_client()
    {
        EvaluationDataset data = SmallData.Ratings();
        EvaluationUser user = data.Users[0];
        MethodContext context = SmallData.Context(data, chat: null);

        var vote = new HistoryVoteMethod();
        MethodAnswer voted = await vote.AnswerAsync(context, user, await vote.PrepareUserAsync(context, user, default), user.Queries[0], default);
        MethodAnswer prior = await new UserPriorMethod().AnswerAsync(context, user, null, user.Queries[0], default);

        Assert.False(vote.RequiresChatModel);
        Assert.Equal(3, voted.Examples.Count);
        Assert.Equal("3.5", prior.Answer);   // mean of 5, 2, 4.5, 1.5 = 3.25, rounded half away from zero on the 0.5 grid
        await Assert.ThrowsAsync<InvalidOperationException>(() => new ZeroShotMethod().AnswerAsync(context, user, null, user.Queries[0], default));
    }
}
