namespace Rpm.Tests.Fallback;

public sealed class ModelFreePredictorTests
{
    private static readonly RpmTask Ratings = RpmTask.Rating("r", "Rate.", new RatingScale(0.5, 5, 0.5));
    private static readonly RpmTask Tags = RpmTask.Classification("t", "Tag.", ["a", "b", "c"]);

    private static HistoryItem Item(string id, string output, string? input = null, IReadOnlyList<string>? options = null) => new(id, input ?? "input " + id, output, null, options);

    [Fact]
    public void A_rating_is_the_similarity_weighted_mean_shrunk_toward_the_users_mean()
    {
        HistoryItem h1 = Item("1", "4.0"), h2 = Item("2", "2.0"), h3 = Item("3", "3.0");

        // Neighbor mean (0.8 * 4 + 0.2 * 2) / 1.0 = 3.6; user mean 3.0; (1.0 * 3.6 + 1 * 3.0) / 2 = 3.3, on the grid 3.5.
        ModelFreePrediction p = new ModelFreePredictor().Predict(Ratings, [h1, h2, h3], "q", [new(h1, 0.8f), new(h2, 0.2f)]);

        Assert.Equal("3.5", p.Answer);
        Assert.Equal(3.6, p.Scores["neighborMean"], 5);
        Assert.Equal(3.0, p.Scores["userMean"], 12);
        Assert.Equal(3.3, p.Scores["prediction"], 5);
        Assert.Contains("shrunk toward the user's mean 3", p.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_similarity_carries_no_weight_and_the_shrinkage_strength_is_an_option()
    {
        HistoryItem h1 = Item("1", "4.0"), h2 = Item("2", "2.0"), h3 = Item("3", "3.0");
        HistoryNeighbor[] neighbors = [new(h1, 0.5f), new(h2, -0.3f)];

        ModelFreePrediction shrunk = new ModelFreePredictor().Predict(Ratings, [h1, h2, h3], "q", neighbors);
        ModelFreePrediction raw = new ModelFreePredictor(options: new ModelFreePredictorOptions { RatingShrinkage = 0 }).Predict(Ratings, [h1, h2, h3], "q", neighbors);

        Assert.Equal((0.5 * 4 + 3.0) / 1.5, shrunk.Scores["prediction"], 5);
        Assert.Equal("3.5", shrunk.Answer);
        Assert.Equal("4.0", raw.Answer);
    }

    [Fact]
    public void Labels_are_a_similarity_weighted_vote_with_ties_to_the_users_most_frequent_answer()
    {
        HistoryItem[] history = [Item("1", "a"), Item("2", "b"), Item("3", "b"), Item("4", "c"), Item("5", "a"), Item("6", "a")];
        var predictor = new ModelFreePredictor();

        Assert.Equal("b", predictor.Predict(Tags, history, "q", [new(history[1], 0.9f), new(history[3], 0.5f), new(history[0], 0.3f)]).Answer);
        Assert.Equal("b", predictor.Predict(Tags, history, "q", [new(history[3], 0.5f), new(history[1], 0.5f)]).Answer);
        Assert.Equal("a", predictor.Predict(Tags, history, "q", []).Answer);
        ModelFreePrediction p = predictor.Predict(Tags, history, "q", [new(history[1], 0.9f), new(history[3], 0.1f)]);
        Assert.Equal(0.9, p.Scores["b"], 5);
        Assert.Equal(0.1, p.Scores["c"], 5);
        Assert.Equal(0, p.Scores["a"], 5);
    }

    [Fact]
    public void Multiple_choice_maps_answers_by_text_then_by_relative_position()
    {
        RpmTask task = RpmTask.MultipleChoice("mc", "Answer.");
        string[] likert = ["Strongly agree", "Agree", "Disagree", "Strongly disagree"];
        HistoryItem disagree = Item("1", "Disagree", options: likert);
        var predictor = new ModelFreePredictor();

        Assert.Equal("Disagree", predictor.Predict(task, [disagree], new RpmQuery("q", "q", ["Agree", "Disagree"]), [new(disagree, 0.7f)]).Answer);
        Assert.Equal("No", predictor.Predict(task, [disagree], new RpmQuery("q", "q", ["Yes", "No"]), [new(disagree, 0.7f)]).Answer);
        Assert.Equal("Yes", predictor.Predict(task, [Item("2", "Agree", options: likert)], new RpmQuery("q", "q", ["Yes", "No"]), [new(Item("2", "Agree", options: likert), 0.7f)]).Answer);
    }

    [Theory]
    [InlineData(0.5, "b")]
    [InlineData(0.6, "b")]
    [InlineData(0.4, "a")]
    public void With_a_user_model_the_factor_propensities_of_the_query_blend_with_the_neighbors(double factorWeight, string expected)
    {
        var f1 = new Factor("Lightness", "light movies");
        var f2 = new Factor("Darkness", "dark movies");
        var paths = new[]
        {
            new ReasoningPath(Item("1", "a"), [new Feature("Comedy genre", "a comedy", "Lightness")], "Light, so a."),
            new ReasoningPath(Item("2", "b"), [new Feature("Crime genre", "a crime story", "Darkness")], "Dark, so b."),
            new ReasoningPath(Item("3", "b"), [new Feature("Noir genre", "a noir", "Darkness")], "Dark, so b."),
        };
        var statistics = new[]
        {
            new FactorStatistics(f1, 1, new Dictionary<string, int> { ["a"] = 1 }, new Dictionary<string, double> { ["a"] = 1.0, ["b"] = 0, ["c"] = 0 }),
            new FactorStatistics(f2, 2, new Dictionary<string, int> { ["b"] = 2 }, new Dictionary<string, double> { ["a"] = 0, ["b"] = 1.0, ["c"] = 0 }),
        };
        var model = new UserModel("u", Tags, statistics, paths);
        var predictor = new ModelFreePredictor(options: new ModelFreePredictorOptions { FactorWeight = factorWeight });

        // The neighbor says a (share 1); the query's feature is in Darkness, whose propensity says b (1).
        ModelFreePrediction p = predictor.Predict(model, "q", [new RetrievedExample(paths[0], 0.9f)], [new Feature("Thriller genre", "a thriller", "Darkness")]);

        Assert.Equal(expected, p.Answer);
        Assert.Equal(1 - factorWeight, p.Scores["a"], 5);
        Assert.Equal(factorWeight, p.Scores["b"], 5);
        Assert.Contains("Darkness", p.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generation_tasks_and_bad_input_are_refused_clearly()
    {
        var predictor = new ModelFreePredictor();
        RpmTask generation = RpmTask.Generation("g", "Write.");

        Assert.False(ModelFreePredictor.Supports(generation));
        Assert.Throws<NotSupportedException>(() => predictor.Predict(generation, [Item("1", "text")], "q", []));
        Assert.Throws<ArgumentException>(() => predictor.Predict(Tags, [], "q", []));
        Assert.Throws<ArgumentException>(() => predictor.Predict(Tags, [Item("1", "zzz")], "q", []));
        var model = new UserModel("u", Tags, [], [new ReasoningPath(Item("1", "a"), [], "The user tags it a.")]);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => predictor.PredictAsync(model, "q"));
        Assert.Contains("no feature retriever", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new ModelFreePredictor(options: new ModelFreePredictorOptions { FactorWeight = 2 }));
    }
}
