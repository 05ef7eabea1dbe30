namespace Rpm.Evaluation.Tests.Data;

public sealed class LampReaderTests
{
    [Fact]
    public async Task Reads_the_MovieLens_rating_sample_unchanged_with_its_task_file()
    {
        EvaluationDataset data = await EvaluationDataLoader.LoadAsync(TestFiles.MovieLensRatings);

        Assert.Equal("movielens-ratings", data.Name);
        Assert.Equal(RpmTaskKind.Rating, data.Task.Kind);
        Assert.Equal(0.5, data.Task.Scale!.Minimum);
        Assert.Equal(5, data.Task.Scale.Maximum);
        Assert.Equal(400, data.Users.Count);
        Assert.Equal(400, data.PersonCount);
        Assert.Equal(400, data.QueryCount);
        Assert.Equal(26945, data.Users.Sum(u => u.History.Count));
        EvaluationUser first = data.Users[0];
        Assert.Equal("1", first.Id);
        Assert.Equal("5000", first.Queries[0].Id);
        Assert.Equal("4.0", first.Queries[0].Gold);
        Assert.StartsWith("What is the score of the following movie", first.Queries[0].Input, StringComparison.Ordinal);
        Assert.Equal("Crocodile Dundee (1986). Genres: Adventure, Comedy.", first.History[0].Input);
        Assert.Equal("5.0", first.History[0].Output);
        Assert.Equal(new DateTimeOffset(2000, 7, 30, 0, 0, 0, TimeSpan.Zero), first.History[0].Timestamp);
    }

    [Fact]
    public async Task Reads_the_MovieLens_tag_sample_as_LaMP_2_and_keeps_each_questions_own_profile()
    {
        EvaluationDataset data = await EvaluationDataLoader.LoadAsync(TestFiles.MovieLensTags);

        Assert.Equal("LaMP-2", data.Name);
        Assert.Equal(15, data.Task.Labels.Count);
        Assert.Equal(130, data.QueryCount);
        Assert.Equal(14, data.PersonCount);

        // Profiles grow from query to query, so every question is its own unit (no future history leaks into a query).
        Assert.Equal(130, data.Users.Count);
        EvaluationUser[] user62 = [.. data.Users.Where(u => u.PersonId == "62")];
        Assert.Equal(24, user62.Length);
        Assert.Equal([.. Enumerable.Range(1, 24)], user62.Select(u => u.History.Count).ToArray());
        Assert.All(user62, u => Assert.StartsWith("62@", u.Id, StringComparison.Ordinal));
        Assert.Equal(2, data.TakePeople(1).Users.Count);
    }

    [Fact]
    public async Task Reads_official_LaMP_shapes_ignoring_unknown_keys_and_numbers_written_as_numbers()
    {
        string folder = TestFiles.NewFolder();
        string questions = TestFiles.Write(folder, "dev_questions.json", """
            [{"id": "310", "input": "Review: works well, cheap.", "extra": {"x": 1},
              "profile": [{"id": "3100", "text": "Broke in a week.", "score": "1", "title": "ignored"},
                          {"id": "3101", "text": "Great value.", "score": 5, "date": "not a date"}]}]
            """);
        string outputs = TestFiles.Write(folder, "dev_outputs.json", """{"task": "LaMP_3", "golds": [{"id": "310", "output": "4", "note": "ignored"}]}""");

        EvaluationDataset data = await EvaluationDataLoader.LoadAsync(folder);

        Assert.Equal("LaMP-3", data.Name);
        EvaluationUser user = Assert.Single(data.Users);
        Assert.Equal(["1", "5"], user.History.Select(h => h.Output));
        Assert.Null(user.History[1].Timestamp);
        Assert.Equal("4", user.Queries[0].Gold);
        Assert.Equal(questions, Directory.GetFiles(folder, "*questions*")[0]);
        Assert.True(File.Exists(outputs));
    }

    [Theory]
    [InlineData("LaMP-5", """{"id": "p1", "title": "Deep nets", "abstract": "We study nets."}""", "We study nets.", "Deep nets")]
    [InlineData("LaMP-4", """{"id": "p1", "title": "Storm hits", "text": "A storm hit the coast."}""", "A storm hit the coast.", "Storm hits")]
    [InlineData("LaMP-7", """{"id": "p1", "text": "loving this sunny day"}""", "Write a tweet.", "loving this sunny day")]
    [InlineData("LaMP-2", """{"id": "p1", "tag": "classic", "description": "An old film."}""", "An old film.", "classic")]
    public async Task Maps_each_LaMP_tasks_profile_fields(string task, string profileItem, string input, string output)
    {
        string folder = TestFiles.NewFolder();
        TestFiles.Write(folder, "q_questions.json", $$"""[{"id": "1", "input": "the query", "profile": [{{profileItem}}]}]""");
        string gold = task == "LaMP-2" ? "comedy" : "a gold";
        TestFiles.Write(folder, "q_outputs.json", $$"""{"task": "{{task.Replace('-', '_')}}", "golds": [{"id": "1", "output": "{{gold}}"}]}""");

        EvaluationDataset data = await EvaluationDataLoader.LoadAsync(folder);

        HistoryItem item = Assert.Single(data.Users[0].History);
        Assert.Equal(input, item.Input);
        Assert.Equal(output, item.Output);
    }

    [Fact]
    public async Task LaMP_1_profiles_are_read_but_marked_as_holding_no_task_answers()
    {
        string folder = TestFiles.NewFolder();
        TestFiles.Write(folder, "q_questions.json", """[{"id": "1", "input": "For an author ... [1]: \"A\" [2]: \"B\"", "profile": [{"id": "p", "title": "My paper", "abstract": "About things."}]}]""");
        TestFiles.Write(folder, "q_outputs.json", """{"task": "LaMP_1", "golds": [{"id": "1", "output": "[2]"}]}""");

        EvaluationDataset data = await EvaluationDataLoader.LoadAsync(folder);

        Assert.False(data.HistoryHasTaskAnswers);
        Assert.Equal(["[1]", "[2]"], data.Task.Labels);
        Assert.NotNull(new RpmMethod().CheckApplicable(data));
        Assert.NotNull(new HistoryVoteMethod().CheckApplicable(data));
        Assert.Null(new RagMethod(RagRetriever.Bm25).CheckApplicable(data));
    }

    [Fact]
    public async Task A_question_with_no_profile_fails_naming_the_file_and_the_question()
    {
        string folder = TestFiles.NewFolder();
        string questions = TestFiles.Write(folder, "x_questions.json", """[{"id": "7", "input": "q", "profile": [{"id": "1", "tag": "comedy", "description": "d"}]}, {"id": "8", "input": "q"}]""");
        string outputs = TestFiles.Write(folder, "x_outputs.json", """{"task": "LaMP_2", "golds": [{"id": "7", "output": "comedy"}, {"id": "8", "output": "comedy"}]}""");

        var ex = await Assert.ThrowsAsync<EvaluationDataException>(() => LampReader.ReadAsync(questions, outputs, LampTaskSpec.Lamp2));

        Assert.Equal(questions, ex.FilePath);
        Assert.Equal("8", ex.ItemId);
        Assert.Contains("no profile", ex.Message, StringComparison.Ordinal);
        Assert.Contains("x_questions.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_id_with_no_gold_fails_naming_the_outputs_file_and_the_id()
    {
        string folder = TestFiles.NewFolder();
        string questions = TestFiles.Write(folder, "x_questions.json", """[{"id": "7", "input": "q", "profile": [{"id": "1", "tag": "comedy", "description": "d"}]}]""");
        string outputs = TestFiles.Write(folder, "x_outputs.json", """{"task": "LaMP_2", "golds": [{"id": "6", "output": "comedy"}]}""");

        var ex = await Assert.ThrowsAsync<EvaluationDataException>(() => LampReader.ReadAsync(questions, outputs, LampTaskSpec.Lamp2));

        Assert.Equal(outputs, ex.FilePath);
        Assert.Equal("7", ex.ItemId);
        Assert.Contains("no gold", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""[{"id": "7", "input": "q", "profile": [{"id": "1", "tag": "horror", "description": "d"}]}]""", """{"golds": [{"id": "7", "output": "comedy"}]}""", "'1' of question '7'", "not an answer of task LaMP-2")]
    [InlineData("""[{"id": "7", "input": "q", "profile": [{"id": "1", "tag": "comedy", "description": "d"}]}]""", """{"golds": [{"id": "7", "output": "horror"}]}""", "'7'", "not one of the task's labels")]
    [InlineData("""[{"id": "7", "input": "q", "profile": [{"id": "1", "tag": "comedy"}]}]""", """{"golds": [{"id": "7", "output": "comedy"}]}""", "'1' of question '7'", "\"description\"")]
    [InlineData("""[{"id": "7", "profile": [{"id": "1", "tag": "comedy", "description": "d"}]}]""", """{"golds": [{"id": "7", "output": "comedy"}]}""", "'7'", "no \"input\"")]
    [InlineData("""[{"id": "7", "input": "q", "profile": [{"id": "1", "tag": "comedy", "description": "d"}]}, {"id": "7", "input": "q", "profile": [{"id": "1", "tag": "comedy", "description": "d"}]}]""", """{"golds": [{"id": "7", "output": "comedy"}]}""", "'7'", "more than once")]
    [InlineData("""{"not": "an array"}""", """{"golds": []}""", "questions.json", "expected an array")]
    [InlineData("""[{"id": "7", "input": "q", "profile": [{"id": "1", "tag": "comedy", "description": "d"}]}""", """{"golds": []}""", "questions.json", "not valid JSON")]
    [InlineData("""[{"id": "7", "input": "q", "profile": [{"id": "1", "tag": "comedy", "description": "d"}]}]""", """{"golds": [{"id": "7"}]}""", "'7'", "no \"output\"")]
    public async Task Malformed_LaMP_input_fails_with_a_clear_message(string questionsJson, string outputsJson, string where, string what)
    {
        string folder = TestFiles.NewFolder();
        string questions = TestFiles.Write(folder, "x_questions.json", questionsJson);
        string outputs = TestFiles.Write(folder, "x_outputs.json", outputsJson);

        var ex = await Assert.ThrowsAsync<EvaluationDataException>(() => LampReader.ReadAsync(questions, outputs, LampTaskSpec.Lamp2));

        Assert.Contains(where, ex.Message, StringComparison.Ordinal);
        Assert.Contains(what, ex.Message, StringComparison.Ordinal);
        Assert.Contains("x_", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_without_a_known_task_asks_for_one()
    {
        string folder = TestFiles.NewFolder();
        TestFiles.Write(folder, "a_questions.json", """[{"id": "7", "input": "q", "profile": [{"id": "1", "text": "t", "score": "3"}]}]""");
        TestFiles.Write(folder, "a_outputs.json", """{"task": "my_ratings", "golds": [{"id": "7", "output": "3"}]}""");

        var ex = await Assert.ThrowsAsync<EvaluationDataException>(() => EvaluationDataLoader.LoadAsync(folder));
        Assert.Contains("--kind rating --scale", ex.Message, StringComparison.Ordinal);

        var spec = new LampTaskSpec("my_ratings", RpmTaskKind.Rating, "Rate it.", ["text"], "score", scale: LampTaskSpec.ParseScale("1:5:1"));
        EvaluationDataset data = await EvaluationDataLoader.LoadAsync(folder, spec);
        Assert.Equal("3", data.Users[0].History[0].Output);
    }

    [Fact]
    public async Task Outputs_round_trip_in_LaMPs_format()
    {
        string path = Path.Combine(TestFiles.NewFolder(), "sub", "preds.json");
        var outputs = new LampOutputs("LaMP_2", [new("1", "comedy"), new("2", "a \"quoted\" <tag>")]);

        await outputs.WriteAsync(path);
        LampOutputs read = await LampOutputs.ReadAsync(path);

        Assert.Equal("LaMP_2", read.Task);
        Assert.Equal(outputs.Items, read.Items);
        Assert.Contains("\"golds\"", await File.ReadAllTextAsync(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Presets_are_found_by_any_usual_spelling()
    {
        Assert.True(LampTaskSpec.TryGetPreset("LaMP_2", out LampTaskSpec? a));
        Assert.True(LampTaskSpec.TryGetPreset("lamp-3", out LampTaskSpec? b));
        Assert.True(LampTaskSpec.TryGetPreset("5", out LampTaskSpec? c));
        Assert.False(LampTaskSpec.TryGetPreset("MovieLens_rating", out _));
        Assert.Equal("LaMP-2", a!.Name);
        Assert.Equal(RpmTaskKind.Rating, b!.Kind);
        Assert.Equal(RpmTaskKind.Generation, c!.Kind);
        Assert.Equal(15, LampTaskSpec.Lamp2.Labels.Count);
        Assert.DoesNotContain("sports", LampTaskSpec.Lamp2.Labels);
    }
}
