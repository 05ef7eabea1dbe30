using System.Text.Json.Nodes;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Methods;

public sealed class RpmAblationTests
{
    private static async Task<(EvalChatClient Build, EvalChatClient Query, object? State, MethodAnswer Answer)> RunArm(string name, EvaluationDataset data, HashingEmbeddingGenerator? embeddings = null)
    {
        IEvaluationMethod method = EvaluationMethods.Create(name);
        EvaluationUser user = data.Users[0];
        var build = new EvalChatClient();
        object? state = await method.PrepareUserAsync(SmallData.Context(data, build, embeddings), user, default);
        var query = new EvalChatClient();
        MethodAnswer answer = await method.AnswerAsync(SmallData.Context(data, query, embeddings), user, state, user.Queries[0], default);
        return (build, query, state, answer);
    }

    private static string[] Texts(JsonNode? array, string property) => [.. array!.AsArray().Select(e => e![property]!.GetValue<string>())];

    [Theory]
    [InlineData("rpm-no-examples")]
    [InlineData("rpm-pairs")]
    [InlineData("rpm-pairs-cot")]
    [InlineData("rpm-query-key")]
    public async Task Every_arm_builds_RPMs_user_model_and_makes_stage_5s_call_and_one_answer_call_per_query(string name)
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationUser user = data.Users[0];
        var rpm = new EvalChatClient();
        await new RpmMethod().PrepareUserAsync(SmallData.Context(data, rpm), user, default);

        var (build, query, state, answer) = await RunArm(name, data);

        Assert.Equal(RpmMethod.Scope, EvaluationMethods.Create(name).CacheScope);
        Assert.Equal((2 * user.History.Count) + 1, build.CallCount);
        Assert.Equal(rpm.Requests.Select(r => r.AllText).Order(StringComparer.Ordinal), build.Requests.Select(r => r.AllText).Order(StringComparer.Ordinal)); // the same prompts: one cached build serves all
        Assert.Equal(2, query.CallCount);
        Assert.Equal("rpm_featurelist", query.Requests[0].SchemaName);
        Assert.True(query.Requests[0].Data.ContainsKey("factors"));
        Assert.True(answer.IsValid);
        Assert.NotEmpty(answer.QueryFeatures);
        Assert.NotNull(state);
    }

    [Fact]
    public async Task The_stage_5_call_of_an_arm_is_rpms_own_prompt()
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationUser user = data.Users[0];
        var rpm = new EvalChatClient();
        var method = new RpmMethod();
        object? state = await method.PrepareUserAsync(SmallData.Context(data, rpm), user, default);
        rpm = new EvalChatClient();
        await method.AnswerAsync(SmallData.Context(data, rpm), user, state, user.Queries[0], default);

        var (_, pairs, _, _) = await RunArm("rpm-pairs", data);

        Assert.Equal(rpm.Requests[0].AllText, pairs.Requests[0].AllText);
    }

    [Fact]
    public async Task No_examples_shows_the_query_its_features_and_the_factor_statistics_and_nothing_of_the_history()
    {
        EvaluationDataset data = SmallData.Tags();
        var (build, query, _, answer) = await RunArm("rpm-no-examples", data);

        EvalRequest request = query.Requests[1];
        Assert.Equal("baseline_answer", request.SchemaName);
        Assert.Equal(data.Users[0].Queries[0].Input, request.Data["query"]!.GetValue<string>());
        Assert.NotEmpty(request.Data["queryFeatures"]!.AsArray());
        Assert.NotEmpty(request.Data["factors"]!.AsArray());
        Assert.False(request.Data.ContainsKey("examples"));
        Assert.All(data.Users[0].History, h => Assert.DoesNotContain(h.Input, request.AllText, StringComparison.Ordinal));
        Assert.DoesNotContain(BaselinePrompts.CotInstruction, request.System, StringComparison.Ordinal);
        Assert.Contains("\"propensity\" gives", request.System, StringComparison.Ordinal);
        Assert.Empty(answer.Examples);
        Assert.Null(answer.Rationale);
    }

    [Fact]
    public async Task Pairs_adds_rpms_K_retrieved_inputs_and_answers_without_features_or_reasoning_paths()
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationUser user = data.Users[0];
        var rpm = new EvalChatClient();
        var full = new RpmMethod();
        object? model = await full.PrepareUserAsync(SmallData.Context(data, rpm), user, default);
        MethodAnswer rpmAnswer = await full.AnswerAsync(SmallData.Context(data, rpm), user, model, user.Queries[0], default);
        string[] reasoning = [.. ((UserModel)model!).Paths.Select(p => p.Reasoning)];

        var (_, query, _, answer) = await RunArm("rpm-pairs", data);

        EvalRequest request = query.Requests[1];
        Assert.Equal("baseline_answer", request.SchemaName);
        JsonArray examples = request.Data["examples"]!.AsArray();
        Assert.Equal(3, examples.Count);
        Assert.Equal(rpmAnswer.Examples.Select(e => e.Input), Texts(examples, "input")); // stage 6 as RPM retrieves
        Assert.Equal(rpmAnswer.Examples.Select(e => e.Answer), Texts(examples, "userAnswer"));
        Assert.All(examples, e => Assert.False(e!.AsObject().ContainsKey("reasoning")));
        Assert.All(examples, e => Assert.False(e!.AsObject().ContainsKey("features")));
        Assert.All(reasoning, r => Assert.DoesNotContain(r, request.AllText, StringComparison.Ordinal));
        Assert.NotEmpty(request.Data["queryFeatures"]!.AsArray());
        Assert.NotEmpty(request.Data["factors"]!.AsArray());
        Assert.DoesNotContain(BaselinePrompts.CotInstruction, request.System, StringComparison.Ordinal);
        Assert.Equal(rpmAnswer.Examples.Select(e => e.ItemId), answer.Examples.Select(e => e.ItemId));
    }

    [Fact]
    public async Task Pairs_cot_is_pairs_with_the_baselines_generic_chain_of_thought()
    {
        EvaluationDataset data = SmallData.Tags();
        var (_, pairs, _, _) = await RunArm("rpm-pairs", data);
        var (_, cot, _, answer) = await RunArm("rpm-pairs-cot", data);

        EvalRequest request = cot.Requests[1];
        Assert.Equal("baseline_cot_answer", request.SchemaName);
        Assert.Contains(BaselinePrompts.CotInstruction, request.System, StringComparison.Ordinal);
        Assert.Equal(pairs.Requests[1].Data.ToJsonString(), request.Data.ToJsonString()); // the same data; only the instruction differs
        Assert.StartsWith("FAKE REASONING", answer.Rationale, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_key_is_rpms_prompt_with_the_paths_whose_inputs_are_nearest_the_raw_query()
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationUser user = data.Users[0];
        EvaluationQuery q = user.Queries[0];
        var embeddings = new HashingEmbeddingGenerator();

        var (_, query, _, answer) = await RunArm("rpm-query-key", data, embeddings);

        EvalRequest request = query.Requests[1];
        Assert.Equal("rpm_answer", request.SchemaName);
        float[] key = HashingEmbeddingGenerator.Embed(q.ToRpmQuery().Content);
        string[] expected = [.. user.History.OrderByDescending(h => Cosine(key, HashingEmbeddingGenerator.Embed(h.Input))).Take(3).Select(h => h.Input)];
        JsonArray examples = request.Data["examples"]!.AsArray();
        Assert.Equal(expected, Texts(examples, "input"));
        Assert.All(examples, e => Assert.False(string.IsNullOrEmpty(e!["reasoning"]!.GetValue<string>())));
        Assert.Contains(q.ToRpmQuery().Content, embeddings.Inputs);
        Assert.All(answer.Examples, e => Assert.False(string.IsNullOrEmpty(e.Reasoning)));
    }

    [Fact]
    public async Task A_run_with_rpm_and_every_arm_pays_for_one_build_and_one_stage_5_call_per_query()
    {
        EvaluationDataset data = SmallData.Tags();
        string[] names = ["rpm", "rpm-no-examples", "rpm-pairs", "rpm-pairs-cot", "rpm-query-key"];
        var chat = new EvalChatClient();
        var runner = new EvaluationRunner(new EvaluationRunnerOptions { CachePath = Path.Combine(TestFiles.NewFolder(), "answers.sqlite"), ModelId = "fake-model" });

        EvaluationResult result = await runner.RunAsync(data, [.. names.Select(EvaluationMethods.Create)], chat, new HashingEmbeddingGenerator());

        int build = data.Users.Sum(u => (2 * u.History.Count) + 1);
        Assert.All(result.Methods, m => Assert.Equal(build, m.BuildUsage.Calls));
        Assert.All(result.Methods, m => Assert.Equal(2 * data.QueryCount, m.QueryUsage.Calls));
        Assert.All(result.Methods, m => Assert.Equal(0, m.FailedQueries));
        Assert.Equal(build + data.QueryCount + (names.Length * data.QueryCount), chat.CallCount);
    }

    [Fact]
    public async Task The_estimate_counts_rpms_build_and_2_calls_per_query_for_every_arm_and_marks_stage_5_as_shared()
    {
        EvaluationDataset data = SmallData.Tags();
        IEvaluationMethod[] methods = [new RpmMethod(), .. Enum.GetValues<RpmAblation>().Select(a => new RpmAblationMethod(a))];
        var chat = new EvalChatClient();

        IReadOnlyList<MethodEstimate> estimates = await new CostEstimator().EstimateAsync(data, methods);
        EvaluationResult run = await new EvaluationRunner().RunAsync(data, methods, chat, new HashingEmbeddingGenerator());

        for (int i = 0; i < methods.Length; i++)
        {
            Assert.Equal(estimates[0].Build, estimates[i].Build);
            Assert.Equal(run.Methods[i].BuildUsage.Calls, estimates[i].Build.Calls);
            Assert.Equal(run.Methods[i].QueryUsage.Calls, estimates[i].Query.Calls);
            Assert.Equal(data.QueryCount, estimates[i].SharedQuery.Calls);
        }

        Assert.True(estimates[2].Query.InputTokens > estimates[1].Query.InputTokens); // pairs add the examples
        Assert.True(estimates[3].Query.OutputTokens > estimates[2].Query.OutputTokens); // CoT adds reasoning
        Assert.Equal(estimates[0].Query, estimates[4].Query); // the raw-query key changes no prompt's size
    }

    [Fact]
    public async Task The_report_lists_every_arm_and_fermi_with_what_it_does()
    {
        EvaluationDataset data = SmallData.Tags();
        IEvaluationMethod[] methods =
        [
            .. Enum.GetValues<RpmAblation>().Select(a => new RpmAblationMethod(a)),
            new FermiMethod(new FermiOptions { Iterations = 1, PromptsPerIteration = 1, ScoringItems = 2 }),
        ];

        EvaluationResult result = await new EvaluationRunner().RunAsync(data, methods, new EvalChatClient(), new HashingEmbeddingGenerator());
        string html = EvaluationReportWriter.RenderHtml(result);

        Assert.All(methods.Take(4), m => Assert.Contains($"<li><code>{m.Name}</code>: RPM ablation:", html, StringComparison.Ordinal));
        Assert.Contains("<li><code>fermi</code>: Fermi: per user, the model improves personalized prompts over 1 iteration (1 new each", html, StringComparison.Ordinal);
        Assert.Equal(["rpm-no-examples", "rpm-pairs", "rpm-pairs-cot", "rpm-query-key"], methods.Take(4).Select(m => m.Name));
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}
