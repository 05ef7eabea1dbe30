using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Methods;

/// <summary>LaMP-7's placeholder history, and PAG's "most recent first".</summary>
public sealed class LampTaskRulesTests
{
    private static async Task<EvaluationDataset> Lamp7Async()
    {
        string folder = TestFiles.NewFolder();
        TestFiles.Write(folder, "dev_questions.json", """
            [{"id": "70", "input": "Paraphrase the following tweet without any explanation before or after it: rain again in Seattle, shocking",
              "profile": [{"id": "700", "text": "coffee first, questions later"}, {"id": "701", "text": "another monday, another bug"}]}]
            """);
        TestFiles.Write(folder, "dev_outputs.json", """{"task": "LaMP_7", "golds": [{"id": "70", "output": "seattle rain, what a surprise"}]}""");
        return await EvaluationDataLoader.LoadAsync(folder);
    }

    [Fact]
    public async Task RPM_is_not_applicable_on_LaMP_7_and_rpm_eval_and_rpm_estimate_say_why()
    {
        EvaluationDataset lamp7 = await Lamp7Async();

        string? reason = new RpmMethod().CheckApplicable(lamp7);
        EvaluationResult result = await new EvaluationRunner(new EvaluationRunnerOptions { ModelId = "fake-model" })
            .RunAsync(lamp7, [new RpmMethod(), new ZeroShotMethod()], new EvalChatClient(), new HashingEmbeddingGenerator());
        IReadOnlyList<MethodEstimate> estimates = await new CostEstimator().EstimateAsync(lamp7, [new RpmMethod()]);
        EvaluationResult withoutModel = await new EvaluationRunner(new EvaluationRunnerOptions { ModelId = "none", ChatModelUnavailableReason = "no endpoint." })
            .RunAsync(lamp7, [new RpmMethod()], null, new HashingEmbeddingGenerator());

        Assert.NotNull(reason);
        Assert.Contains("same input (\"Write a tweet.\"", reason, StringComparison.Ordinal);
        Assert.All(Enum.GetValues<RpmAblation>(), arm => Assert.Equal(reason, new RpmAblationMethod(arm).CheckApplicable(lamp7)));
        Assert.Equal(reason, Assert.Single(result.Skipped, s => s.Name == "rpm").Reason);
        Assert.Equal("zero-shot", Assert.Single(result.Methods).Name);
        Assert.Equal(reason, Assert.Single(withoutModel.Skipped).Reason); // a model would not make it run
        Assert.Equal("not applicable: " + reason, Assert.Single(estimates).Note);
        Assert.Equal(0, estimates[0].Build.Calls + estimates[0].Query.Calls);
        Assert.Contains(reason, EvaluationReportWriter.RenderMarkdown(result), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(RagRetriever.Bm25))]
    [InlineData(nameof(RagRetriever.Dense))]
    public async Task RAG_on_LaMP_7_finds_the_users_tweets_by_their_text_as_LaMP_does(string retriever)
    {
        string folder = TestFiles.NewFolder();
        TestFiles.Write(folder, "dev_questions.json", """
            [{"id": "71", "input": "Paraphrase the following tweet without any explanation before or after it: rain again in Seattle today",
              "profile": [{"id": "710", "text": "coffee first, questions later"}, {"id": "711", "text": "seattle rain never stops"}, {"id": "712", "text": "coding all night"}]}]
            """);
        TestFiles.Write(folder, "dev_outputs.json", """{"task": "LaMP_7", "golds": [{"id": "71", "output": "seattle is wet again"}]}""");
        EvaluationDataset data = await EvaluationDataLoader.LoadAsync(folder);
        EvaluationUser user = data.Users[0];
        var chat = new EvalChatClient();
        var context = new MethodContext { Task = data.Task, ChatClient = chat, EmbeddingGenerator = new HashingEmbeddingGenerator(), RetrievalCount = 1, Tokenizer = EvaluationTokenizer.O200kBase };
        var rag = new RagMethod(Enum.Parse<RagRetriever>(retriever));

        MethodAnswer answer = await rag.AnswerAsync(context, user, await rag.PrepareUserAsync(context, user, default), user.Queries[0], default);

        Assert.Equal("711", Assert.Single(answer.Examples).ItemId);
        Assert.Equal("Write a tweet.", answer.Examples[0].Input); // the prompt shows the item as it is
        Assert.Contains("seattle rain never stops", string.Join("\n", chat.Requests.Single().Messages.Select(m => m.Text)), StringComparison.Ordinal);
    }

    [Fact]
    public void RPM_stays_applicable_where_history_inputs_differ()
    {
        Assert.Null(new RpmMethod().CheckApplicable(SmallData.Tags()));
        Assert.Null(new RpmFallbackMethod().CheckApplicable(SmallData.Ratings()));
    }

    [Fact]
    public void PAG_reads_the_history_by_date_when_every_item_has_one_and_last_in_file_first_otherwise()
    {
        static DateTimeOffset Day(int day) => new(2020, 1, day, 0, 0, 0, TimeSpan.Zero);
        HistoryItem[] dated = [new("a", "A", "x", Day(5)), new("b", "B", "x", Day(1)), new("c", "C", "x", Day(9)), new("d", "D", "x", Day(5))];
        HistoryItem[] partly = [new("a", "A", "x", Day(5)), new("b", "B", "x"), new("c", "C", "x", Day(9))];

        Assert.Equal(["c", "d", "a", "b"], BaselinePrompts.MostRecentFirst(dated).Select(h => h.Id));
        Assert.Equal(["c", "b", "a"], BaselinePrompts.MostRecentFirst(partly).Select(h => h.Id));

        // The summary prompt lists them in that order.
        var data = new EvaluationDataset("tags", LampTaskSpec.Lamp2.Task, []);
        HistoryItem[] tagged = [new("a", "Alien (1979).", "sci-fi", Day(5)), new("b", "Heat (1995).", "action", Day(1)), new("c", "Brazil (1985).", "dystopia", Day(9))];
        string prompt = string.Join("\n", BaselinePrompts.Summary(SmallData.Context(data, chat: null), tagged, 6000).Select(m => m.Text));
        Assert.True(prompt.IndexOf("Brazil", StringComparison.Ordinal) < prompt.IndexOf("Alien", StringComparison.Ordinal));
        Assert.True(prompt.IndexOf("Alien", StringComparison.Ordinal) < prompt.IndexOf("Heat", StringComparison.Ordinal));
        Assert.Contains("by date", new PagMethod().Description, StringComparison.Ordinal);
    }
}
