using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class RespondTests(MiniLmFixture miniLm)
{
    private const string Query = "What is the score of the following movie? movie: Aliens (1986). Genres: Action, Adventure, Horror, Sci-Fi.";

    private async Task<(RpmPipeline Pipeline, UserModel Model, FakeChatClient Chat, RecordingEmbeddingGenerator Embeddings)> BuildAsync(int k = 3)
    {
        var chat = new FakeChatClient();
        var embeddings = new RecordingEmbeddingGenerator(miniLm.Generator);
        RpmPipeline pipeline = TestPipelines.Create(chat, embeddings, o => o.RetrievalCount = k);
        UserModel model = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(12));
        chat.Reset();
        return (pipeline, model, chat, embeddings);
    }

    [Fact]
    public async Task Query_features_come_from_the_content_and_the_final_prompt_shows_the_full_question()
    {
        var (pipeline, model, chat, _) = await BuildAsync();
        const string Content = "Aliens (1986). Genres: Action, Adventure, Horror, Sci-Fi.";
        var query = new RpmQuery("What is the score of the following movie? Answer with a number. movie: " + Content, content: Content);

        await pipeline.RespondAsync(model, query);

        FakeRequest features = chat.For(RpmStage.QueryFeatureExtraction).Single();
        Assert.Contains(Content, features.DataText, StringComparison.Ordinal);
        Assert.DoesNotContain("What is the score", features.DataText, StringComparison.Ordinal);
        Assert.Contains("What is the score of the following movie?", chat.For(RpmStage.Generation).Single().DataText, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new RpmQuery("q", content: " "));
    }

    [Fact]
    public async Task A_response_costs_two_calls_and_explains_itself()
    {
        var (pipeline, model, chat, _) = await BuildAsync();

        RpmResponse response = await pipeline.RespondAsync(model, Query);

        Assert.Equal(2, chat.CallCount);
        Assert.Equal(RpmStage.QueryFeatureExtraction, chat.Requests[0].Stage);
        Assert.Equal(RpmStage.Generation, chat.Requests[1].Stage);
        Assert.Equal(3, response.Examples.Count);
        Assert.True(response.Examples[0].Similarity >= response.Examples[1].Similarity && response.Examples[1].Similarity >= response.Examples[2].Similarity);
        Assert.NotEmpty(response.QueryFeatures);
        Assert.False(string.IsNullOrWhiteSpace(response.Rationale));
        Assert.Equal(2, response.Usage.Calls);

        // The fake votes over the retrieved examples; the closest past items are the sci-fi ones, rated 4.5.
        Assert.All(response.Examples, e => Assert.Contains("Sci-Fi", e.Path.Item.Input));
        Assert.Equal("4.5", response.Answer);
    }

    [Fact]
    public async Task The_query_extraction_is_factor_aware()
    {
        var (pipeline, model, chat, _) = await BuildAsync();
        await pipeline.RespondAsync(model, Query);

        FakeRequest extraction = chat.Requests[0];
        var factors = extraction.Data["factors"]!.AsArray().Select(f => f!["factor"]!.GetValue<string>());
        Assert.Equal(model.Statistics.Select(s => s.Factor.Name), factors);
        Assert.Contains("Never invent a new factor name", extraction.System);
    }

    [Fact]
    public async Task The_retrieval_key_is_the_query_features_not_the_raw_query()
    {
        var (pipeline, model, _, embeddings) = await BuildAsync();
        int before = embeddings.Inputs.Count;

        RpmResponse response = await pipeline.RespondAsync(model, Query);

        string key = Assert.Single(embeddings.Inputs.Skip(before));
        Assert.Equal(FeatureText.Compose(response.QueryFeatures), key);
        Assert.DoesNotContain("What is the score", key);

        // And the stored keys were the items' feature texts, not their inputs.
        Assert.All(model.Paths, p => Assert.Contains(FeatureText.Compose(p.Features), embeddings.Inputs.Take(before)));
        Assert.DoesNotContain(model.Paths[0].Item.Input, embeddings.Inputs);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task The_generation_prompt_holds_exactly_K_retrieved_reasoning_paths(int k)
    {
        var (pipeline, model, chat, _) = await BuildAsync(k);
        RpmResponse response = await pipeline.RespondAsync(model, Query);

        var examples = chat.Requests[1].Data["examples"]!.AsArray();
        Assert.Equal(k, examples.Count);
        Assert.Equal(response.Examples.Select(e => e.Path.Reasoning), examples.Select(e => e!["reasoning"]!.GetValue<string>()));
        Assert.Equal(response.Examples.Select(e => e.Path.Item.Output), examples.Select(e => e!["userAnswer"]!.GetValue<string>()));
        Assert.Equal(model.Statistics.Count, chat.Requests[1].Data["factors"]!.AsArray().Count);
    }

    [Fact]
    public async Task Query_features_that_fit_no_factor_stay_unassigned_and_get_no_statistics()
    {
        var (pipeline, model, chat, _) = await BuildAsync();
        Assert.DoesNotContain(model.Statistics, s => s.Factor.Name == "Other genres");

        // The fake model files an unknown genre under "Other genres", which is none of this user's factors.
        RpmResponse response = await pipeline.RespondAsync(model, "movie: Koyaanisqatsi (1982). Genres: Experimental.");

        Feature experimental = response.QueryFeatures.Single(f => f.Name == "Experimental genre");
        Assert.True(experimental.IsUnassigned);
        Assert.Equal("Era", response.QueryFeatures.Single(f => f.Name == "1980s release").Factor);
        var sent = chat.Requests[1].Data["queryFeatures"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "Experimental genre")!;
        Assert.Equal("unassigned", sent["factor"]!.GetValue<string>());
        Assert.Equal(model.Statistics.Select(s => s.Factor.Name), chat.Requests[1].Data["factors"]!.AsArray().Select(f => f!["factor"]!.GetValue<string>()));
        Assert.Contains("no statistics exist for them", chat.Requests[1].System);
    }

    [Fact]
    public async Task A_factor_name_the_model_invents_for_a_query_feature_becomes_unassigned()
    {
        var (pipeline, model, chat, _) = await BuildAsync();
        chat.Respond = r => r.Stage == RpmStage.QueryFeatureExtraction
            ? """{"features":[{"name":"Aliens","context":"xenomorphs","factor":"Monster love"},{"name":"Space","context":"space","factor":"imagination"}]}"""
            : null;

        RpmResponse response = await pipeline.RespondAsync(model, Query);

        Assert.Null(response.QueryFeatures[0].Factor);
        Assert.Equal("Imagination", response.QueryFeatures[1].Factor); // matched without case, spelled as the factor
    }

    [Fact]
    public async Task An_answer_off_the_scale_is_retried_then_reported()
    {
        var (pipeline, model, chat, _) = await BuildAsync();
        chat.Respond = r => r.Stage == RpmStage.Generation ? """{"rationale":"r","citations":[],"answer":"4.7"}""" : null;

        var ex = await Assert.ThrowsAsync<RpmModelOutputException>(() => pipeline.RespondAsync(model, new RpmQuery(Query, id: "q-42")));

        Assert.Equal(RpmStage.Generation, ex.Stage);
        Assert.Equal("q-42", ex.ItemId);
        Assert.Contains("not on the scale", ex.Error);
        Assert.Equal(3, chat.CallCount);
        Assert.Contains("not on the scale", chat.Requests[2].Messages[^1].Text);
    }

    [Fact]
    public async Task Respond_by_user_id_reads_the_saved_model()
    {
        var (pipeline, _, chat, _) = await BuildAsync();
        RpmResponse response = await pipeline.RespondAsync("u1", Query);
        Assert.Equal(2, chat.CallCount);
        Assert.Equal(3, response.Examples.Count);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.RespondAsync("nobody", Query));
        Assert.Contains("'nobody' has no saved model", ex.Message);
    }
}
