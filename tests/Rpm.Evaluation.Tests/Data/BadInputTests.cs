using System.Text;
using Rpm.Cli;

namespace Rpm.Evaluation.Tests.Data;

/// <summary>Bad input is a data error naming the file, the item and the problem, never a stack trace; invalid answers are counted for every task kind.</summary>
public sealed class BadInputTests
{
    private const string Task = """{"name": "r", "kind": "rating", "description": "Rate the movie.", "scale": {"minimum": 1, "maximum": 5, "step": 1}, "profileInput": ["text"], "profileOutput": "score"}""";

    private static string Folder(byte[] questions, string golds)
    {
        string folder = TestFiles.NewFolder();
        File.WriteAllBytes(Path.Combine(folder, "questions.json"), questions);
        TestFiles.Write(folder, "outputs.json", golds);
        TestFiles.Write(folder, "task.json", Task);
        return folder;
    }

    [Fact]
    public async Task A_data_file_with_invalid_UTF8_is_a_data_error_naming_the_file_line_and_column()
    {
        byte[] latin1 = Encoding.Latin1.GetBytes("[\n  {\"id\": \"q1\", \"input\": \"Amélie (2001)\", \"profile\": [{\"id\": \"p1\", \"text\": \"Léon (1994)\", \"score\": \"4\"}]}\n]");
        string folder = Folder(latin1, """{"golds": [{"id": "q1", "output": "4"}]}""");

        var ex = await Assert.ThrowsAsync<EvaluationDataException>(() => EvaluationDataLoader.LoadAsync(folder));

        Assert.Equal(Path.Combine(folder, "questions.json"), ex.FilePath);
        Assert.Contains("not valid UTF-8 at byte 29 (line 2, column 28: byte 0xE9)", ex.Message, StringComparison.Ordinal);

        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await RpmCli.RunAsync(["eval", "--data", folder, "--out", Path.Combine(folder, "out")], output, error, new CliServices { Environment = _ => null });
        Assert.Equal(RpmCli.DataError, code);
        Assert.StartsWith("Data error: ", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gold_rating_off_the_tasks_scale_is_a_data_error_like_a_gold_label_outside_the_set()
    {
        string folder = Folder(
            Encoding.UTF8.GetBytes("""[{"id": "q1", "input": "Alien (1979)", "profile": [{"id": "p1", "text": "Aliens (1986)", "score": "4"}]}]"""),
            """{"golds": [{"id": "q1", "output": "7"}]}""");

        var ex = await Assert.ThrowsAsync<EvaluationDataException>(() => EvaluationDataLoader.LoadAsync(folder));

        Assert.Equal("q1", ex.ItemId);
        Assert.Contains("the gold '7' is not on the task's scale: 7 is outside the scale 1 to 5.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_multiple_choice_answer_that_is_none_of_its_questions_options_is_counted_invalid()
    {
        RpmTask task = RpmTask.MultipleChoice("opinions", "Answer as this user would.");
        string[] golds = ["Yes", "Daily"];
        string[] predictions = ["Maybe", "Daily"];
        IReadOnlyList<string>[] options = [["Yes", "No"], ["Daily", "Weekly", "Never"]];

        MetricSet metrics = LampMetrics.Score(task, golds, predictions, options);

        Assert.Equal(1, metrics.InvalidAnswers);
        Assert.Equal(0.5, metrics.Values[LampMetrics.Accuracy]);
    }

    [Fact]
    public void A_rating_off_the_scale_is_counted_invalid()
    {
        RpmTask task = RpmTask.Rating("r", "Rate.", new RatingScale(1, 5, 1));

        MetricSet metrics = LampMetrics.Score(task, ["4", "2"], ["7", "2"]);

        Assert.Equal(1, metrics.InvalidAnswers);
    }

    [Fact]
    public async Task A_UTF8_byte_order_mark_is_accepted_and_UTF16_is_named()
    {
        byte[] json = Encoding.UTF8.GetBytes("""[{"id": "q1", "input": "Alien (1979)", "profile": [{"id": "p1", "text": "Aliens (1986)", "score": "4"}]}]""");
        string withBom = Folder([0xEF, 0xBB, 0xBF, .. json], """{"golds": [{"id": "q1", "output": "4"}]}""");
        string utf16 = Folder(Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("[]")).ToArray(), """{"golds": []}""");
        string utf16NoBom = Folder(Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(json)), """{"golds": []}""");

        EvaluationDataset data = await EvaluationDataLoader.LoadAsync(withBom);
        var ex = await Assert.ThrowsAsync<EvaluationDataException>(() => EvaluationDataLoader.LoadAsync(utf16));

        var noBom = await Assert.ThrowsAsync<EvaluationDataException>(() => EvaluationDataLoader.LoadAsync(utf16NoBom));

        Assert.Equal(1, data.QueryCount);
        Assert.Contains("the file is UTF-16", ex.Message, StringComparison.Ordinal);
        Assert.Contains("looks like UTF-16", noBom.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_JSON_syntax_error_names_the_line_and_column_from_one()
    {
        string folder = Folder(Encoding.UTF8.GetBytes("[\n  {\"id\": \"q1\",\n   \"input\" \"Alien\"}\n]"), """{"golds": []}""");

        var ex = await Assert.ThrowsAsync<EvaluationDataException>(() => EvaluationDataLoader.LoadAsync(folder));

        Assert.Contains("not valid JSON at line 3, column 12:", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePositionInLine", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rpm_score_checks_the_golds_against_the_task_like_eval()
    {
        string folder = TestFiles.NewFolder();
        string golds = TestFiles.Write(folder, "golds.json", """{"task": "LaMP_3", "golds": [{"id": "1", "output": "7"}]}""");
        string predictions = TestFiles.Write(folder, "preds.json", """{"task": "LaMP_3", "golds": [{"id": "1", "output": "4"}]}""");
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await RpmCli.RunAsync(["score", "--predictions", predictions, "--golds", golds], output, error, new CliServices { Environment = _ => null });

        Assert.Equal(RpmCli.DataError, code);
        Assert.Contains("golds.json, item '1': the gold '7' is not on the task's scale", error.ToString(), StringComparison.Ordinal);
    }
}
