using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Data;

/// <summary>Queries as LaMP reads them: the content inside the instruction is what retrieval and RPM's query features key on.</summary>
public sealed class QueryContentRuleTests
{
    // Question strings in the shape LaMP's own files use, one per task (LaMP-6 has the same rule as LaMP-7).
    public static TheoryData<string, string, string> LampQuestions => new()
    {
        {
            "LaMP-1",
            "For an author who has written the paper with the title \"Learning to Rank for Information Retrieval\", which reference is related? Just answer with [1] or [2] without explanation. [1]: \"A Support Vector Method for Optimizing Average Precision\" [2]: \"Protein Folding with Lattice Models\"",
            "A Support Vector Method for Optimizing Average Precision Protein Folding with Lattice Models"
        },
        {
            "LaMP-2",
            "Which tag does this movie relate to among the following tags? Just answer with the tag name without further explanation. tags: [sci-fi, based on a book, comedy, action, twist ending, dystopia, dark comedy, classic, psychology, fantasy, romance, thought-provoking, social commentary, violence, true story] description: A young blade runner's discovery of a long-buried secret leads him to track down former blade runner Rick Deckard.",
            "A young blade runner's discovery of a long-buried secret leads him to track down former blade runner Rick Deckard."
        },
        {
            "LaMP-3",
            "What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, 4, or 5 without further explanation. review: The blender broke after two weeks: the motor smells like burning plastic.",
            "The blender broke after two weeks: the motor smells like burning plastic."
        },
        {
            "LaMP-4",
            "Generate a headline for the following article: The city council voted 7-2 on Tuesday to extend the night bus service to the airport.",
            "The city council voted 7-2 on Tuesday to extend the night bus service to the airport."
        },
        {
            "LaMP-5",
            "Generate a title for the following abstract of a paper: We study retrieval for personalization. Our finding: the query's content, not its instruction, should be the key.",
            "We study retrieval for personalization. Our finding: the query's content, not its instruction, should be the key."
        },
        {
            "LaMP-7",
            "Paraphrase the following tweet without any explanation before or after it: just landed in NYC: time for pizza!",
            "just landed in NYC: time for pizza!"
        },
    };

    [Theory]
    [MemberData(nameof(LampQuestions))]
    public void Each_LaMP_preset_takes_the_content_LaMP_retrieves_with(string task, string input, string content)
    {
        Assert.True(LampTaskSpec.TryGetPreset(task, out LampTaskSpec? spec));

        Assert.Equal(content, spec.ContentRule.Extract(input));
    }

    [Theory]
    [InlineData("LaMP-2", "Which tag does this movie relate to? Alien (1979).")] // no marker
    [InlineData("LaMP-2", "Which tag does this movie relate to? description:   ")] // nothing after it
    [InlineData("LaMP-3", "Review: works well, cheap.")] // markers are case-sensitive, as Python's str.find
    [InlineData("LaMP-1", "Which reference is related? [1] Ranking [2] Folding")] // no quoted titles
    [InlineData("LaMP-7", "Paraphrase this tweet please")] // no colon
    public void Without_its_marker_the_whole_trimmed_input_is_the_content(string task, string input)
    {
        Assert.True(LampTaskSpec.TryGetPreset(task, out LampTaskSpec? spec));

        Assert.Equal(input.Trim(), spec.ContentRule.Extract("  " + input + "\n"));
    }

    [Fact]
    public async Task The_reader_sets_the_content_and_ToRpmQuery_carries_it_beside_the_whole_input()
    {
        string folder = TestFiles.NewFolder();
        string input = "Which tag does this movie relate to among the following tags? Just answer with the tag name without further explanation. tags: [sci-fi, comedy] description: Alien (1979). Genres: Horror, Sci-Fi.";
        TestFiles.Write(folder, "dev_questions.json", $$"""[{"id": "20", "input": {{System.Text.Json.JsonSerializer.Serialize(input)}}, "profile": [{"id": "200", "description": "Heat (1995).", "tag": "action"}]}]""");
        TestFiles.Write(folder, "dev_outputs.json", """{"task": "LaMP_2", "golds": [{"id": "20", "output": "sci-fi"}]}""");

        EvaluationQuery query = (await EvaluationDataLoader.LoadAsync(folder)).Users[0].Queries[0];
        RpmQuery rpm = query.ToRpmQuery();

        Assert.Equal(input, query.Input);
        Assert.Equal("Alien (1979). Genres: Horror, Sci-Fi.", query.Content);
        Assert.Equal(input, rpm.Input);
        Assert.Equal("Alien (1979). Genres: Horror, Sci-Fi.", rpm.Content);
    }

    [Fact]
    public async Task The_bundled_MovieLens_questions_get_content_shaped_like_their_history_items()
    {
        EvaluationDataset ratings = await EvaluationDataLoader.LoadAsync(TestFiles.MovieLensRatings);
        EvaluationDataset tags = await EvaluationDataLoader.LoadAsync(TestFiles.MovieLensTags);

        Assert.Equal("20 Dates (1998). Genres: Comedy, Romance.", ratings.Users[0].Queries[0].Content);
        Assert.Equal("Lucky Number Slevin (2006). Genres: Crime, Drama, Mystery.", tags.Users[0].Queries[0].Content);

        // Every query's content reads like a history item ("Title (year). Genres: ..."), with no instruction left in it.
        var shape = new System.Text.RegularExpressions.Regex(@"^[^\n]+\(\d{4}\)\. Genres: [^:]+\.$");
        Assert.All(ratings.Users.SelectMany(u => u.Queries).Concat(tags.Users.SelectMany(u => u.Queries)), q => Assert.Matches(shape, q.Content));
        Assert.All(ratings.Users.Take(20).SelectMany(u => u.History), h => Assert.Matches(shape, h.Input));
    }

    [Fact]
    public async Task A_task_file_names_its_content_marker_and_without_one_the_whole_input_is_the_content()
    {
        string folder = TestFiles.NewFolder();
        string withMarker = TestFiles.Write(folder, "a.json", """{"name": "m", "kind": "rating", "description": "Rate.", "scale": {"minimum": 1, "maximum": 5, "step": 1}, "profileInput": ["text"], "profileOutput": "score", "contentMarker": "movie:"}""");
        string without = TestFiles.Write(folder, "b.json", """{"name": "m", "kind": "rating", "description": "Rate.", "scale": {"minimum": 1, "maximum": 5, "step": 1}, "profileInput": ["text"], "profileOutput": "score"}""");

        Assert.Equal("Heat (1995).", (await LampTaskSpec.LoadAsync(withMarker)).ContentRule.Extract("Rate the following movie. movie: Heat (1995)."));
        Assert.Same(QueryContentRule.WholeInput, (await LampTaskSpec.LoadAsync(without)).ContentRule);
    }

    [Fact]
    public async Task An_opinion_question_is_its_own_content()
    {
        EvaluationDataset data = await EvaluationDataLoader.LoadAsync(TestFiles.OpinionsSample);

        Assert.All(data.Users.SelectMany(u => u.Queries), q => Assert.Equal(q.Input, q.Content));
    }

    [Fact]
    public async Task RAG_and_the_history_vote_key_their_retrieval_on_the_content_not_on_the_instruction()
    {
        // The instruction repeats words of the wrong history item ("comedy"), the content those of the right one.
        const string Input = "Which tag does this movie relate to? Comedy comedy comedy. description: Alien (1979). Genres: Horror, Sci-Fi.";
        var query = new EvaluationQuery("q", Input, "sci-fi") { Content = "Alien (1979). Genres: Horror, Sci-Fi." };
        EvaluationDataset data = new("tags", LampTaskSpec.Lamp2.Task,
        [
            new EvaluationUser("u", "u",
            [
                new("h1", "Airplane! (1980). Genres: Comedy, comedy.", "comedy"),
                new("h2", "Aliens (1986). Genres: Horror, Sci-Fi.", "sci-fi"),
            ],
            [query]),
        ]);
        var embeddings = new HashingEmbeddingGenerator();
        var context = new MethodContext { Task = data.Task, ChatClient = new EvalChatClient(), EmbeddingGenerator = embeddings, RetrievalCount = 1, Tokenizer = EvaluationTokenizer.O200kBase };
        EvaluationUser user = data.Users[0];
        var rag = new RagMethod(RagRetriever.Bm25);
        var dense = new RagMethod(RagRetriever.Dense);
        var vote = new HistoryVoteMethod();

        MethodAnswer bm25 = await rag.AnswerAsync(context, user, await rag.PrepareUserAsync(context, user, default), query, default);
        MethodAnswer cosine = await dense.AnswerAsync(context, user, await dense.PrepareUserAsync(context, user, default), query, default);
        MethodAnswer answer = await vote.AnswerAsync(context, user, await vote.PrepareUserAsync(context, user, default), query, default);

        Assert.Equal("h2", Assert.Single(bm25.Examples).ItemId);
        Assert.Equal("h2", Assert.Single(cosine.Examples).ItemId);
        Assert.Equal("h2", Assert.Single(answer.Examples).ItemId);
        Assert.Contains(query.Content, embeddings.Inputs);
        Assert.DoesNotContain(Input, embeddings.Inputs);
    }
}
