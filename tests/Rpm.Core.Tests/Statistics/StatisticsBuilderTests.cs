using Rpm.Tests.Fakes;

namespace Rpm.Tests.Statistics;

public sealed class StatisticsBuilderTests
{
    private static readonly Factor Darkness = new("Darkness", "How dark the story is.");
    private static readonly Factor Humor = new("Humor", "How funny it is.");
    private static readonly Factor Unused = new("Unused", "Touches nothing.");

    private static ItemFeatures Item(string id, string output, params (string Name, string? Factor)[] features) =>
        new(new HistoryItem(id, "input " + id, output), [.. features.Select(f => new Feature(f.Name, "context of " + f.Name, f.Factor))]);

    [Fact]
    public async Task Propensity_is_the_share_of_touched_items_with_each_label()
    {
        // Hand-computed: Darkness touches items 1, 2, 3, 5 (4 items): labels sci-fi x2, comedy x1, true story x1.
        // Humor touches items 2 and 4 (2 items): comedy x2. Item 2 touches both factors; item 6 touches none
        // (its only feature is unassigned), so it counts for no factor.
        RpmTask task = RpmTask.Classification("tags", "Tag.", ["sci-fi", "comedy", "true story"]);
        ItemFeatures[] items =
        [
            Item("1", "sci-fi", ("Space", "Darkness"), ("Robots", "Darkness")),
            Item("2", "comedy", ("Gloom", "Darkness"), ("Jokes", "Humor")),
            Item("3", "sci-fi", ("Space", "Darkness")),
            Item("4", "comedy", ("Jokes", "Humor")),
            Item("5", "True Story", ("War", "Darkness")),
            Item("6", "comedy", ("Music", null)),
        ];

        var builder = new StatisticsBuilder();
        IReadOnlyList<FactorStatistics> stats = await builder.ComputeStatisticsAsync(task, [Darkness, Humor, Unused], items);

        Assert.Equal(["Darkness", "Humor", "Unused"], stats.Select(s => s.Factor.Name));
        FactorStatistics dark = stats[0];
        Assert.Equal(4, dark.Coverage);
        Assert.Equal(0.5, dark.Propensity["sci-fi"], 12);
        Assert.Equal(0.25, dark.Propensity["comedy"], 12);
        Assert.Equal(0.25, dark.Propensity["true story"], 12);
        Assert.Equal(2, dark.LabelCounts["sci-fi"]);

        FactorStatistics humor = stats[1];
        Assert.Equal(2, humor.Coverage);
        Assert.Equal(1.0, humor.Propensity["comedy"], 12);
        Assert.Equal(0.0, humor.Propensity["sci-fi"], 12);

        FactorStatistics unused = stats[2];
        Assert.Equal(0, unused.Coverage);
        Assert.All(unused.Propensity.Values, p => Assert.Equal(0, p));
    }

    [Fact]
    public async Task Rating_statistics_count_each_scale_value_and_the_mean()
    {
        RpmTask task = RpmTask.Rating("r", "Rate.", new RatingScale(1, 5, 1));
        ItemFeatures[] items =
        [
            Item("a", "5", ("Space", "Darkness")),
            Item("b", "4.0", ("Space", "Darkness")),
            Item("c", "4", ("Gloom", "Darkness"), ("Jokes", "Humor")),
            Item("d", "1", ("Jokes", "Humor")),
        ];

        var stats = await new StatisticsBuilder().ComputeStatisticsAsync(task, [Darkness, Humor], items);

        Assert.Equal(3, stats[0].Coverage);
        Assert.Equal(2.0 / 3, stats[0].Propensity["4"], 12);
        Assert.Equal(1.0 / 3, stats[0].Propensity["5"], 12);
        Assert.Equal(0, stats[0].Propensity["1"]);
        Assert.Equal(13.0 / 3, stats[0].MeanRating!.Value, 12);
        Assert.Equal(2.5, stats[1].MeanRating!.Value, 12);
        Assert.Equal(["1", "2", "3", "4", "5"], stats[0].Propensity.Keys.Order());
    }

    [Fact]
    public async Task Generation_statistics_count_coverage_influence_and_polarity()
    {
        // Darkness: items x and y touch it (coverage 2); its features: 3 in all, 2 judged influential
        // (one positive, one negative), so influence 2 and polarity 0.5 / 0 / 0.5.
        RpmTask task = RpmTask.Generation("titles", "Write the title.");
        var items = new[]
        {
            new ItemFeatures(new HistoryItem("x", "abstract x", "Title X"),
            [
                new Feature("Gloom", "c", "Darkness", influential: true, polarity: FeaturePolarity.Positive),
                new Feature("Night", "c", "Darkness", influential: false),
            ]),
            new ItemFeatures(new HistoryItem("y", "abstract y", "Title Y"),
            [
                new Feature("War", "c", "Darkness", influential: true, polarity: FeaturePolarity.Negative),
                new Feature("Jokes", "c", "Humor", influential: true, polarity: FeaturePolarity.Neutral),
            ]),
        };

        var stats = await new StatisticsBuilder().ComputeStatisticsAsync(task, [Darkness, Humor], items);

        Assert.Equal(2, stats[0].Coverage);
        Assert.Equal(2, stats[0].Influence);
        Assert.Equal(0.5, stats[0].PositiveShare);
        Assert.Equal(0.0, stats[0].NeutralShare);
        Assert.Equal(0.5, stats[0].NegativeShare);
        Assert.Equal(1, stats[1].Coverage);
        Assert.Equal(1, stats[1].Influence);
        Assert.Equal(1.0, stats[1].NeutralShare);
        Assert.Empty(stats[0].Propensity);
    }

    [Fact]
    public async Task Multiple_choice_propensity_runs_over_the_answers_given()
    {
        RpmTask task = RpmTask.MultipleChoice("opinion", "Answer.");
        string[] options = ["Agree", "Disagree"];
        var items = new[]
        {
            new ItemFeatures(new HistoryItem("1", "q1", "A", options: options), [new Feature("Economy", "c", "Economy")]),
            new ItemFeatures(new HistoryItem("2", "q2", "Disagree", options: options), [new Feature("Economy", "c", "Economy")]),
            new ItemFeatures(new HistoryItem("3", "q3", "agree", options: options), [new Feature("Economy", "c", "Economy")]),
        };

        var stats = await new StatisticsBuilder().ComputeStatisticsAsync(task, [new Factor("Economy", null)], items);

        Assert.Equal(2.0 / 3, stats[0].Propensity["Agree"], 12);
        Assert.Equal(1.0 / 3, stats[0].Propensity["Disagree"], 12);
    }

    [Fact]
    public async Task An_output_invalid_for_the_task_is_reported_with_its_item()
    {
        RpmTask task = RpmTask.Classification("tags", "Tag.", ["a", "b"]);
        var ex = await Assert.ThrowsAsync<ArgumentException>(() =>
            new StatisticsBuilder().ComputeStatisticsAsync(task, [Darkness], [Item("bad-item", "c", ("x", "Darkness"))]));
        Assert.Contains("bad-item", ex.Message);
    }

    [Fact]
    public async Task Factor_construction_assigns_every_feature_by_name_and_sends_distinct_features_once()
    {
        var chat = new FakeChatClient();
        var builder = new FactorConstructor(chat, new RpmOptions());
        RpmTask task = RpmTask.Rating("r", "Rate.", new RatingScale(1, 5, 1));
        ItemFeatures[] items =
        [
            new(new HistoryItem("1", "in", "3"), [new Feature("Space", "outer space", "Imagination"), new Feature("Jokes", "gags", "Lightness")]),
            new(new HistoryItem("2", "in", "4"), [new Feature("space", "a spaceship", "Imagination")]),
        ];

        FactorConstruction result = await builder.ConstructFactorsAsync("u1", task, items);

        Assert.Single(chat.Requests);
        var sent = chat.Requests[0].Data["features"]!.AsArray();
        Assert.Equal(2, sent.Count); // "Space" and "space" are one feature, seen in two items
        Assert.Equal(2, sent[0]!["items"]!.GetValue<int>());
        Assert.Equal(["Imagination", "Lightness"], result.Factors.Select(f => f.Name));
        Assert.Equal("Imagination", result.Items[1].Features[0].Factor);
        Assert.Equal("Lightness", result.Items[0].Features[1].Factor);
    }

    [Fact]
    public async Task Factor_construction_repairs_an_answer_that_assigns_no_feature_of_the_data()
    {
        var chat = new FakeChatClient
        {
            Respond = r => r.Attempt == 1 ? """{"factors":[{"name":"Mood","description":"d","features":["Invented"]}]}""" : null,
        };
        var builder = new FactorConstructor(chat, new RpmOptions());
        ItemFeatures[] items = [new(new HistoryItem("1", "in", "3"), [new Feature("Space", "outer space", "Imagination")])];

        FactorConstruction result = await builder.ConstructFactorsAsync("u1", RpmTask.Rating("r", "Rate.", new RatingScale(1, 5, 1)), items);

        Assert.Equal(2, chat.CallCount);
        Assert.Contains("No factor lists any feature from the data", chat.Requests[1].Messages[^1].Text);
        Assert.Equal("Imagination", result.Items[0].Features[0].Factor);
    }
}
