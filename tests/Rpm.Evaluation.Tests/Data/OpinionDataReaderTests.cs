namespace Rpm.Evaluation.Tests.Data;

public sealed class OpinionDataReaderTests
{
    [Fact]
    public async Task Reads_the_synthetic_sample_file_as_one_unit_per_group()
    {
        EvaluationDataset data = await EvaluationDataLoader.LoadAsync(TestFiles.OpinionsSample);

        Assert.Equal(RpmTaskKind.MultipleChoice, data.Task.Kind);
        Assert.Equal(3, data.Users.Count);
        Assert.Equal(6, data.QueryCount);
        EvaluationUser a = data.Users[0];
        Assert.Equal("Group A", a.Id);
        Assert.Equal(6, a.History.Count);
        Assert.Equal(["Strongly agree", "Agree", "Disagree", "Strongly disagree"], a.History[0].Options);
        Assert.Equal("Strongly agree", a.History[0].Output);
        Assert.Equal("A-q7", a.Queries[0].Id);
        Assert.Equal(4, a.Queries[0].Options!.Count);
        Assert.Contains("SYNTHETIC", await File.ReadAllTextAsync(TestFiles.OpinionsSample), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"id": "q1", "question": "Q?", "options": ["Yes", "No"], "answer": "Maybe"}""", "'Maybe' is not one of its options")]
    [InlineData("""{"id": "q1", "question": "Q?", "options": ["Yes"], "answer": "Yes"}""", "at least two distinct")]
    [InlineData("""{"id": "q1", "question": "Q?", "answer": "Yes"}""", "no \"options\"")]
    [InlineData("""{"id": "q1", "options": ["Yes", "No"], "answer": "Yes"}""", "no \"question\"")]
    public async Task Malformed_questions_fail_naming_the_group_and_question(string history, string problem)
    {
        string path = TestFiles.Write(TestFiles.NewFolder(), "ops.json", $$"""
            {"format": "rpm-opinions/1", "groups": [{"id": "G", "history": [{{history}}], "queries": [{"id": "z", "question": "Q?", "options": ["Yes", "No"], "answer": "No"}]}]}
            """);

        var ex = await Assert.ThrowsAsync<EvaluationDataException>(() => OpinionDataReader.ReadAsync(path));

        Assert.Contains("G/q1", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.Contains("ops.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_without_the_format_marker_is_refused()
    {
        string path = TestFiles.Write(TestFiles.NewFolder(), "ops.json", """{"groups": []}""");

        var ex = await Assert.ThrowsAsync<EvaluationDataException>(() => EvaluationDataLoader.LoadAsync(path));

        Assert.Contains("rpm-opinions/1", ex.Message, StringComparison.Ordinal);
    }
}
