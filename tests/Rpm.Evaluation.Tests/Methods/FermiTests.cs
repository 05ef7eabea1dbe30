using System.Text.Json;
using System.Text.Json.Nodes;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Methods;

public sealed class FermiTests
{
    private static readonly FermiOptions Small = new() { Iterations = 3, PromptsPerIteration = 2, MemorySize = 3, ScoringItems = 4, MisalignedShown = 2 };

    // Answers a Fermi answer prompt with the user's own answer when the prompt is "good" for the item, else a wrong label.
    private static Func<EvalRequest, string?> Answering(EvaluationUser user, Func<string, HistoryItem, bool> aligned) => request =>
    {
        if (request.SchemaName != "baseline_answer" || request.Data["userPrompt"] is not JsonNode prompt)
        {
            return null;
        }

        string input = request.Data["query"]!.GetValue<string>();
        HistoryItem? item = user.History.FirstOrDefault(h => h.Input == input);
        string answer = item is not null && aligned(prompt.GetValue<string>(), item) ? item.Output : "twist ending";
        return JsonSerializer.Serialize(new Dictionary<string, string> { ["answer"] = answer });
    };

    [Fact]
    public async Task Preparing_a_user_makes_T_times_1_plus_P_times_S_calls_and_a_query_makes_one()
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationUser user = data.Users[0]; // 5 history items, S = 4
        var chat = new EvalChatClient();
        var method = new FermiMethod(Small);

        object? state = await method.PrepareUserAsync(SmallData.Context(data, chat), user, default);

        Assert.Equal(3 * (1 + (2 * 4)), chat.CallCount);
        Assert.Equal(Small.CallsPerUser(user.History.Count), chat.CallCount);
        Assert.Equal(3, chat.WithSchema("fermi_prompts").Count);
        Assert.Equal(3 * 2 * 4, chat.WithSchema("baseline_answer").Count);
        string[] scored = [.. user.History.Skip(1).Select(h => h.Input)]; // the 4 most recent items
        Assert.All(chat.WithSchema("baseline_answer"), r => Assert.Contains(r.Data["query"]!.GetValue<string>(), scored));

        var query = new EvalChatClient();
        MethodAnswer answer = await method.AnswerAsync(SmallData.Context(data, query), user, state, user.Queries[0], default);
        EvalRequest sent = Assert.Single(query.Requests);
        Assert.Equal(user.Queries[0].Input, sent.Data["query"]!.GetValue<string>());
        Assert.StartsWith("FAKE PROMPT", sent.Data["userPrompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(answer.IsValid);
        Assert.Equal(3, answer.Examples.Count);
    }

    [Fact]
    public async Task A_history_shorter_than_S_is_scored_whole()
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationUser user = data.Users[1]; // 4 history items
        var chat = new EvalChatClient();
        var options = new FermiOptions { Iterations = 2, PromptsPerIteration = 1, ScoringItems = 10 };

        await new FermiMethod(options).PrepareUserAsync(SmallData.Context(data, chat), user, default);

        Assert.Equal(2 * (1 + 4), chat.CallCount);
        Assert.Equal(options.CallsPerUser(4), chat.CallCount);
    }

    [Fact]
    public async Task The_memory_keeps_at_most_L_prompts_the_best_first_and_the_optimizer_sees_their_misaligned_answers()
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationUser user = data.Users[0];

        // A prompt of the optimizer's k-th call, numbered #i, is aligned on the first (k + i - 1) mod 5 scoring items.
        var chat = new EvalChatClient();
        chat.Respond = Answering(user, (prompt, item) =>
        {
            int version = int.Parse(prompt.Split(' ')[2].Split('.')[0][1..], System.Globalization.CultureInfo.InvariantCulture);
            int number = int.Parse(prompt.Split('#')[1].Split(':')[0], System.Globalization.CultureInfo.InvariantCulture);
            int index = user.History.Skip(1).ToList().IndexOf(item);
            return index < (version + number - 1) % 5;
        });
        var method = new FermiMethod(Small);

        var state = (FermiUserState)(await method.PrepareUserAsync(SmallData.Context(data, chat), user, default))!;

        Assert.Equal(Small.MemorySize, state.Memory.Count);
        Assert.Equal(state.Memory.OrderByDescending(c => c.Score).Select(c => c.Prompt), state.Memory.Select(c => c.Prompt));
        Assert.Equal(state.Memory.Count, state.Memory.Select(c => c.Prompt).Distinct().Count());
        IReadOnlyList<EvalRequest> optimizer = chat.WithSchema("fermi_prompts");
        Assert.Equal([0, 2, 3], optimizer.Select(r => r.Data["memory"]!.AsArray().Count)); // min(L, (t - 1) × P)
        JsonArray memory = optimizer[2].Data["memory"]!.AsArray();
        double[] scores = [.. memory.Select(m => m!["score"]!.GetValue<double>())];
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.All(memory, m => Assert.True(m!["misaligned"]!.AsArray().Count <= Small.MisalignedShown));
        JsonNode worst = memory[^1]!;
        Assert.NotEmpty(worst["misaligned"]!.AsArray());
        Assert.All(worst["misaligned"]!.AsArray(), x => Assert.Equal("twist ending", x!["modelAnswer"]!.GetValue<string>()));
        double best = chat.WithSchema("baseline_answer").GroupBy(r => r.Data["userPrompt"]!.GetValue<string>())
            .Max(g => g.Count(r => JsonSerializer.Deserialize<Dictionary<string, string>>(chat.Respond(r)!)!["answer"] != "twist ending") / 4.0);
        Assert.Equal(best, state.Memory[0].Score);

        // Deterministic given the model's answers: the same answers give the same memory.
        var again = new EvalChatClient { Respond = chat.Respond };
        var second = (FermiUserState)(await method.PrepareUserAsync(SmallData.Context(data, again), user, default))!;
        Assert.Equal(state.Memory.Select(c => (c.Prompt, c.Score)), second.Memory.Select(c => (c.Prompt, c.Score)));
    }

    [Fact]
    public async Task Retrieval_of_prompt_picks_the_prompt_best_on_the_history_items_most_similar_to_the_query()
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationUser user = data.Users[0];
        IReadOnlyList<HistoryItem> items = user.History; // Alien, Airplane!, Blade Runner, Brazil, Heat
        var embeddings = new HashingEmbeddingGenerator();
        DenseHistoryIndex index = await DenseHistoryIndex.CreateAsync(items, embeddings);

        // Sci-fi is better overall (3 of 5), but only comedy gets Airplane! right.
        var scifi = new FermiCandidate("SCI-FI PROMPT", 1, [.. items.Select(i => i.Output)], [1, 0, 1, 1, 0]);
        var comedy = new FermiCandidate("COMEDY PROMPT", 1, [.. items.Select(i => i.Output)], [0, 1, 0, 0, 0]);
        var state = new FermiUserState(items, [scifi, comedy], index);
        var method = new FermiMethod();
        var chat = new EvalChatClient();
        MethodContext context = new() { Task = data.Task, ChatClient = chat, EmbeddingGenerator = embeddings, RetrievalCount = 1, Tokenizer = EvaluationTokenizer.O200kBase };

        var funny = new EvaluationQuery("f", "Which tag does this movie relate to? description: Airplane II (1982). Genres: Comedy.", "comedy");
        var (forFunny, nearFunny) = await method.RetrievePromptAsync(context, state, funny, default);
        var dark = new EvaluationQuery("d", "Which tag does this movie relate to? description: Aliens (1986). Genres: Action, Horror, Sci-Fi.", "sci-fi");
        var (forDark, _) = await method.RetrievePromptAsync(context, state, dark, default);
        MethodAnswer answer = await method.AnswerAsync(context, user, state, funny, default);

        Assert.Equal("h2", Assert.Single(nearFunny).Item.Id);
        Assert.Same(comedy, forFunny);
        Assert.Same(scifi, forDark);
        Assert.Equal("COMEDY PROMPT", Assert.Single(chat.Requests).Data["userPrompt"]!.GetValue<string>());
        Assert.Contains("COMEDY PROMPT", answer.Rationale, StringComparison.Ordinal);
        Assert.Contains(funny.ToRpmQuery().Content, embeddings.Inputs);
    }

    [Fact]
    public async Task Fermi_cot_reasons_before_every_answer_scoring_and_query_alike()
    {
        EvaluationDataset data = SmallData.Ratings();
        EvaluationUser user = data.Users[0];
        var chat = new EvalChatClient();
        var method = new FermiMethod(Small with { ChainOfThought = true });

        object? state = await method.PrepareUserAsync(SmallData.Context(data, chat), user, default);
        MethodAnswer answer = await method.AnswerAsync(SmallData.Context(data, chat), user, state, user.Queries[0], default);

        Assert.Equal("fermi-cot", method.Name);
        Assert.Equal("fermi-cot", method.CacheScope);
        Assert.Empty(chat.WithSchema("baseline_answer"));
        Assert.Equal((3 * 2 * 4) + 1, chat.WithSchema("baseline_cot_answer").Count);
        Assert.All(chat.WithSchema("baseline_cot_answer"), r => Assert.Contains(BaselinePrompts.CotInstruction, r.System, StringComparison.Ordinal));
        Assert.Contains("FAKE REASONING", answer.Rationale, StringComparison.Ordinal);
        Assert.Contains("1 minus the mean distance", chat.WithSchema("fermi_prompts")[1].System, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_that_writes_fewer_prompts_than_asked_is_not_asked_again_and_its_prompts_are_used()
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationUser user = data.Users[0]; // 5 history items, S = 4
        var chat = new EvalChatClient();
        chat.Respond = r => r.SchemaName == "fermi_prompts" ? "{\"prompts\": [\"Tag it the way this user does.\"]}" : null;

        object? state = await new FermiMethod(Small).PrepareUserAsync(SmallData.Context(data, chat), user, default);

        Assert.NotNull(state);
        Assert.Equal(3, chat.WithSchema("fermi_prompts").Count);                   // one per iteration, no repair turn
        Assert.Equal(3 * 1 * 4, chat.WithSchema("baseline_answer").Count);          // one prompt scored per iteration
        Assert.True(chat.CallCount < Small.CallsPerUser(user.History.Count));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task The_estimate_has_exactly_the_calls_a_run_makes(bool chainOfThought, bool defaults)
    {
        EvaluationDataset data = SmallData.Tags();
        FermiOptions options = (defaults ? new FermiOptions() : Small) with { ChainOfThought = chainOfThought };
        var chat = new EvalChatClient();

        MethodEstimate estimate = Assert.Single(await new CostEstimator().EstimateAsync(data, [new FermiMethod(options)]));
        EvaluationResult run = await new EvaluationRunner().RunAsync(data, [new FermiMethod(options)], chat, new HashingEmbeddingGenerator());

        MethodResult result = Assert.Single(run.Methods);
        Assert.Equal(0, result.FailedQueries);
        Assert.Equal(result.BuildUsage.Calls, estimate.Build.Calls);
        Assert.Equal(result.QueryUsage.Calls, estimate.Query.Calls);
        Assert.Equal(data.Users.Sum(u => options.CallsPerUser(u.History.Count)), estimate.Build.Calls);
        Assert.Equal(data.QueryCount, estimate.Query.Calls);
        Assert.Equal(chat.CallCount, result.TotalUsage.Calls);
    }

    [Fact]
    public async Task Chain_of_thought_raises_the_estimated_output_tokens()
    {
        EvaluationDataset data = SmallData.Tags();
        IReadOnlyList<MethodEstimate> estimates = await new CostEstimator().EstimateAsync(data, [new FermiMethod(Small), new FermiMethod(Small with { ChainOfThought = true })]);

        Assert.Equal(estimates[0].Build.Calls, estimates[1].Build.Calls);
        Assert.True(estimates[1].Build.OutputTokens > estimates[0].Build.OutputTokens);
        Assert.True(estimates[1].Query.OutputTokens > estimates[0].Query.OutputTokens);
    }

    [Fact]
    public void Options_out_of_range_are_refused_with_the_options_name()
    {
        Assert.Contains("Iterations", Assert.Throws<ArgumentOutOfRangeException>(() => new FermiMethod(new FermiOptions { Iterations = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("MemorySize", Assert.Throws<ArgumentOutOfRangeException>(() => new FermiMethod(new FermiOptions { MemorySize = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("ScoringItems", Assert.Throws<ArgumentOutOfRangeException>(() => new FermiMethod(new FermiOptions { ScoringItems = 0 })).Message, StringComparison.Ordinal);
    }
}
