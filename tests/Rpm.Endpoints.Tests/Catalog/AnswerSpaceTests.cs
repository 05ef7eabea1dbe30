using System.Text.Json.Nodes;
using Rpm.Endpoints.Tests.Server;

namespace Rpm.Endpoints.Tests.Catalog;

/// <summary>The answer space travels as a per-call enum, strictly where the endpoint can; answers that name it loosely are read.</summary>
[Collection(EndpointCollection.Name)]
public sealed class AnswerSpaceTests(MiniLm miniLm)
{
    private static readonly RpmTask Tags = RpmTask.Classification("tags", "Tag the movie with the one tag this user would give it.", ["sci-fi", "comedy", "true story"]);

    private static readonly RpmTask Opinions = RpmTask.MultipleChoice("opinions", "Answer the survey question as this user would.");

    private static List<HistoryItem> TagHistory() =>
    [
        new("t1", "Alien (1979). Genres: Horror, Sci-Fi.", "sci-fi"),
        new("t2", "Notting Hill (1999). Genres: Comedy, Romance.", "comedy"),
        new("t3", "Apollo 13 (1995). Genres: Adventure, Drama.", "true story"),
        new("t4", "Dune (1984). Genres: Adventure, Sci-Fi.", "sci-fi"),
    ];

    private static List<HistoryItem> OpinionHistory() =>
    [
        new("o1", "How much do you trust scientists?", "A great deal", null, ["A great deal", "Some", "Not at all"]),
        new("o2", "How often do you read the news?", "Daily", null, ["Daily", "Weekly", "Never"]),
        new("o3", "Should cities build more bike lanes?", "Yes", null, ["Yes", "No"]),
    ];

    [Fact]
    public async Task Labels_travel_as_a_strict_enum_and_a_label_in_other_case_with_punctuation_is_read_as_the_label()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await pipeline.BuildUserModelAsync("u", Tags, TagHistory());
        harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { Content = "{\"rationale\": \"Space again.\", \"citations\": [], \"answer\": \"  Sci-Fi. \"}" } : null;

        RpmResponse response = await pipeline.RespondAsync(model, "Gattaca (1997). Genres: Drama, Sci-Fi.");

        Assert.Equal("sci-fi", response.Answer);
        Assert.Equal(2, response.Usage.Calls); // features and answer: no repair turn
        JsonObject format = harness.Server.Requests.Last(r => r.Stage == RpmStage.Generation).Body["response_format"]!.AsObject();
        Assert.True(format["json_schema"]!["strict"]!.GetValue<bool>());
        Assert.Equal(["sci-fi", "comedy", "true story"], format["json_schema"]!["schema"]!["properties"]!["answer"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    [Fact]
    public async Task Factor_aware_query_features_carry_the_users_factor_names_or_null_as_their_enum()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);

        await pipeline.RespondAsync(model, "movie: Aliens (1986). Genres: Action, Sci-Fi.");

        JsonNode schema = harness.Server.Requests.Single(r => r.Stage == RpmStage.QueryFeatureExtraction).Body["response_format"]!["json_schema"]!["schema"]!;
        JsonArray factorEnum = schema["properties"]!["features"]!["items"]!["properties"]!["factor"]!["enum"]!.AsArray();
        Assert.Equal([.. model.Factors.Select(f => f.Name), null], factorEnum.Select(v => v?.GetValue<string>()));
        Assert.Null(schema["properties"]!["features"]!["items"]!["properties"]!["influential"]);
    }

    [Fact]
    public async Task Strict_mode_is_an_option_for_servers_that_reject_it()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline(o => o.UseStrictJsonSchema = false);

        await harness.BuildAsync(pipeline);

        Assert.All(harness.Server.Requests, r => Assert.False(r.Body["response_format"]!["json_schema"]!.AsObject().TryGetPropertyValue("strict", out JsonNode? s) && s!.GetValue<bool>()));
    }

    [Fact]
    public async Task A_multiple_choice_answer_given_as_the_options_letter_is_that_option()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await pipeline.BuildUserModelAsync("u", Opinions, OpinionHistory());
        harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { Content = "{\"rationale\": \"Trusts experts.\", \"citations\": [], \"answer\": \"(B)\"}" } : null;

        RpmResponse response = await pipeline.RespondAsync(model, new RpmQuery("Do you trust doctors?", "q1", ["Completely", "Mostly", "Not really"]));

        Assert.Equal("Mostly", response.Answer);
        Assert.Equal(2, response.Usage.Calls);
    }

    [Fact]
    public async Task A_multiple_choice_answer_given_as_the_options_number_is_that_option()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await pipeline.BuildUserModelAsync("u", Opinions, OpinionHistory());
        harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { Content = "{\"rationale\": \"Reads a lot.\", \"citations\": [], \"answer\": 3}" } : null;

        RpmResponse response = await pipeline.RespondAsync(model, new RpmQuery("How often do you read books?", "q2", ["Daily", "Weekly", "Rarely"]));

        Assert.Equal("Rarely", response.Answer);
        Assert.Equal(2, response.Usage.Calls);
    }
}
