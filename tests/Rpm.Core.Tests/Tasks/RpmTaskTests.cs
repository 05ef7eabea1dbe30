namespace Rpm.Tests.Tasks;

public sealed class RpmTaskTests
{
    private static readonly RpmTask Tags = RpmTask.Classification("tags", "Tag the movie.", ["sci-fi", "comedy", "true story"]);

    [Theory]
    [InlineData(" Comedy ", "comedy")]
    [InlineData("TRUE STORY", "true story")]
    [InlineData("sci-fi", "sci-fi")]
    public void Classification_accepts_a_label_in_any_case_and_returns_the_task_spelling(string answer, string expected)
    {
        Assert.True(Tags.TryNormalizeAnswer(answer, null, out string normalized, out string? error));
        Assert.Equal(expected, normalized);
        Assert.Null(error);
    }

    [Theory]
    [InlineData("horror")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("comedy, sci-fi")]
    public void Classification_rejects_an_answer_outside_the_label_set_and_lists_the_labels(string? answer)
    {
        Assert.False(Tags.TryNormalizeAnswer(answer, null, out _, out string? error));
        Assert.Contains("sci-fi, comedy, true story", error);
    }

    [Theory]
    [InlineData("4", "4.0")]
    [InlineData(" 3.5 ", "3.5")]
    [InlineData("0.5", "0.5")]
    [InlineData("5.0", "5.0")]
    [InlineData("4/5", "4.0")]
    [InlineData("4.", "4.0")]
    public void Rating_accepts_numbers_on_the_grid_and_writes_them_canonically(string answer, string expected)
    {
        RpmTask task = RpmTask.Rating("r", "Rate.", new RatingScale(0.5, 5, 0.5));
        Assert.True(task.TryNormalizeAnswer(answer, null, out string normalized, out _));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("3.7", "not on the scale")]
    [InlineData("5.5", "outside the scale")]
    [InlineData("0", "outside the scale")]
    [InlineData("four", "not a number")]
    [InlineData("NaN", "not a number")]
    public void Rating_rejects_numbers_off_the_scale_with_a_reason(string answer, string reason)
    {
        RpmTask task = RpmTask.Rating("r", "Rate.", new RatingScale(0.5, 5, 0.5));
        Assert.False(task.TryNormalizeAnswer(answer, null, out _, out string? error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Integer_scale_writes_ratings_without_decimals()
    {
        RpmTask task = RpmTask.Rating("r", "Rate.", new RatingScale(1, 5, 1));
        Assert.True(task.TryNormalizeAnswer("4.0", null, out string normalized, out _));
        Assert.Equal("4", normalized);
        Assert.Equal(["1", "2", "3", "4", "5"], task.StatisticLabels);
    }

    [Theory]
    [InlineData("Very important", "Very important")]
    [InlineData("b", "Somewhat important")]
    [InlineData("(C)", "Not important")]
    public void Multiple_choice_accepts_the_option_text_or_its_letter(string answer, string expected)
    {
        RpmTask task = RpmTask.MultipleChoice("opinion", "Answer the survey question.");
        string[] options = ["Very important", "Somewhat important", "Not important"];
        Assert.True(task.TryNormalizeAnswer(answer, options, out string normalized, out _));
        Assert.Equal(expected, normalized);
        Assert.False(task.TryNormalizeAnswer("D", options, out _, out string? error));
        Assert.Contains("Very important | Somewhat important | Not important", error);
    }

    [Fact]
    public void Generation_trims_and_rejects_empty_text()
    {
        RpmTask task = RpmTask.Generation("titles", "Write the paper's title.");
        Assert.True(task.TryNormalizeAnswer("  A Title  ", null, out string normalized, out _));
        Assert.Equal("A Title", normalized);
        Assert.False(task.TryNormalizeAnswer("   ", null, out _, out _));
    }

    [Fact]
    public void Factories_reject_bad_definitions_with_clear_messages()
    {
        Assert.Contains("more than once", Assert.Throws<ArgumentException>(() => RpmTask.Classification("t", "d", ["a", "A"])).Message);
        Assert.Contains("at least 2", Assert.Throws<ArgumentException>(() => RpmTask.Classification("t", "d", ["a"])).Message);
        Assert.Throws<ArgumentException>(() => RpmTask.Classification(" ", "d", ["a", "b"]));
        Assert.Throws<ArgumentException>(() => RpmTask.Generation("t", ""));
        Assert.Throws<ArgumentNullException>(() => RpmTask.Rating("t", "d", null!));
        Assert.Contains("greater than the minimum", Assert.Throws<ArgumentOutOfRangeException>(() => new RatingScale(5, 1, 1)).Message);
        Assert.Contains("divide the range", Assert.Throws<ArgumentOutOfRangeException>(() => new RatingScale(1, 5, 0.3)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RatingScale(1, 5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RatingScale(double.NaN, 5, 1));
    }
}
