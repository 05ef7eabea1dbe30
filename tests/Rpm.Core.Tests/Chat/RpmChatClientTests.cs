using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Tests.Chat;

/// <summary>UseRpm() in a real ChatClientBuilder pipeline, over a fake app model and a user model built with the fake RPM model and real MiniLM.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class RpmChatClientTests(MiniLmFixture miniLm)
{
    private const string Message = "Should I watch Aliens (1986)? Genres: Action, Adventure, Horror, Sci-Fi.";

    private async Task<(RpmPipeline Pipeline, FakeChatClient Stages)> BuildAsync(Action<RpmOptions>? configure = null)
    {
        var stages = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(stages, miniLm.Generator, configure);
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(12));
        stages.Reset();
        return (pipeline, stages);
    }

    private static ChatOptions For(string user) => new() { AdditionalProperties = new() { [RpmChatClient.UserIdKey] = user } };

    [Fact]
    public async Task A_named_user_gets_statistics_and_retrieved_reasoning_as_instructions_for_one_extra_call()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient();
        RpmPersonalization? seen = null;
        using IChatClient client = new ChatClientBuilder(app).UseRpm(pipeline, o => o.OnPersonalized = p => seen = p).Build();
        ChatOptions options = For("u1");
        options.Instructions = "Be brief.";
        List<ChatMessage> messages = [new(ChatRole.System, "You are a film critic."), new(ChatRole.User, Message)];

        ChatResponse response = await client.GetResponseAsync(messages, options);

        Assert.Equal("You will like it.", response.Text);
        Assert.Single(stages.Requests);
        Assert.Equal(RpmStage.QueryFeatureExtraction, stages.Requests[0].Stage);
        Assert.Contains(Message, stages.Requests[0].DataText, StringComparison.Ordinal);

        var (sent, sentOptions) = Assert.Single(app.Requests);
        Assert.Equal(messages, sent);                                // messages untouched
        Assert.NotSame(options, sentOptions);                        // the caller's options are not mutated
        Assert.Equal("Be brief.", options.Instructions);
        Assert.False(sentOptions!.AdditionalProperties?.ContainsKey(RpmChatClient.UserIdKey) ?? false);
        string instructions = sentOptions.Instructions!;
        Assert.StartsWith("Be brief.\n\n", instructions, StringComparison.Ordinal);
        Assert.Contains("<data>", instructions, StringComparison.Ordinal);
        Assert.Contains("\"coverage\" is", instructions, StringComparison.Ordinal);
        Assert.Contains("\"propensity\" gives", instructions, StringComparison.Ordinal);
        Assert.Contains("\"messageFeatures\"", instructions, StringComparison.Ordinal);

        Assert.NotNull(seen);
        Assert.Equal(RpmPersonalizationMode.QueryFeatures, seen.Mode);
        Assert.Equal(3, seen.Examples.Count);
        Assert.All(seen.Examples, e => Assert.Contains("Sci-Fi", e.Path.Item.Input, StringComparison.Ordinal));
        Assert.All(seen.Examples, e => Assert.Contains(e.Path.Reasoning, instructions, StringComparison.Ordinal));
        Assert.All(seen.UserModel!.Factors, f => Assert.Contains($"\"factor\":\"{f.Name}\"", instructions, StringComparison.Ordinal));
        Assert.Equal(1, seen.Usage.Calls);
        Assert.Null(seen.FallbackReason);
    }

    [Fact]
    public async Task The_message_embedding_mode_makes_no_extra_model_call()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient();
        RpmPersonalization? seen = null;
        using IChatClient client = new ChatClientBuilder(app)
            .UseRpm(pipeline, o => { o.Mode = RpmPersonalizationMode.MessageEmbedding; o.OnPersonalized = p => seen = p; })
            .Build();

        await client.GetResponseAsync(Message, For("u1"));

        Assert.Empty(stages.Requests);
        Assert.NotNull(seen);
        Assert.Empty(seen.MessageFeatures);
        Assert.Equal(0, seen.Usage.Calls);
        Assert.Equal(3, seen.Examples.Count);
        Assert.Contains(seen.Examples[0].Path.Reasoning, app.Requests[0].Options!.Instructions!, StringComparison.Ordinal);
        Assert.DoesNotContain("\"messageFeatures\"", app.Requests[0].Options!.Instructions!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_without_a_user_or_for_a_user_without_a_model_pass_through_unchanged()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient();
        using IChatClient client = new ChatClientBuilder(app).UseRpm(pipeline).Build();
        var anonymous = new ChatOptions { Instructions = "Be brief." };
        ChatOptions stranger = For("nobody");

        await client.GetResponseAsync(Message, anonymous);
        await client.GetResponseAsync(Message, stranger);
        await client.GetResponseAsync(Message);

        Assert.Empty(stages.Requests);
        Assert.Same(anonymous, app.Requests[0].Options);
        Assert.Same(stranger, app.Requests[1].Options);
        Assert.Null(app.Requests[2].Options);
    }

    [Fact]
    public async Task Streaming_is_personalized_and_passes_every_update_through()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient();
        using IChatClient client = new ChatClientBuilder(app).UseRpm(pipeline).Build();

        List<ChatResponseUpdate> updates = [];
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Message, For("u1")))
        {
            updates.Add(update);
        }

        Assert.Equal(["You ", "will ", "like it."], updates.Select(u => u.Text));
        Assert.Single(stages.Requests);
        Assert.Contains("<data>", app.Requests[0].Options!.Instructions!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tool_calls_pass_through_and_one_turn_pays_for_one_personalization()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient { CallTool = "lookup_movie" };
        int toolCalls = 0;
        AIFunction lookup = AIFunctionFactory.Create((string title) => { toolCalls++; return $"{title}: directed by James Cameron."; }, "lookup_movie");
        using IChatClient client = new ChatClientBuilder(app).UseFunctionInvocation().UseRpm(pipeline).Build();
        ChatOptions options = For("u1");
        options.Tools = [lookup];

        ChatResponse response = await client.GetResponseAsync(Message, options);

        Assert.Equal("You will like it.", response.Text);
        Assert.Equal(1, toolCalls);
        Assert.Equal(2, app.Requests.Count);                              // the tool call round and the answer
        Assert.Contains(app.Requests[1].Messages, m => m.Contents.OfType<FunctionResultContent>().Any());
        Assert.All(app.Requests, r => Assert.Contains("<data>", r.Options!.Instructions!, StringComparison.Ordinal));
        Assert.All(app.Requests, r => Assert.Same(lookup, Assert.Single(r.Options!.Tools!)));
        Assert.Single(stages.Requests);                                   // one feature call for the whole turn
    }

    [Fact]
    public async Task A_resolver_names_the_user()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient();
        using IChatClient client = new ChatClientBuilder(app).UseRpm(pipeline, o => o.UserIdResolver = (_, _) => "u1").Build();

        await client.GetResponseAsync(Message);

        Assert.Single(stages.Requests);
        Assert.Contains("<data>", app.Requests[0].Options!.Instructions!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_feature_call_falls_back_to_the_message_and_is_not_kept()
    {
        var (pipeline, stages) = await BuildAsync(o => o.MaxOutputRetries = 0);
        stages.Respond = _ => "I cannot help with that.";
        var app = new AppChatClient();
        List<RpmPersonalization> seen = [];
        using IChatClient client = new ChatClientBuilder(app).UseRpm(pipeline, o => o.OnPersonalized = seen.Add).Build();

        await client.GetResponseAsync(Message, For("u1"));
        await client.GetResponseAsync(Message, For("u1"));

        Assert.Equal(2, stages.Requests.Count);                          // the degraded result was not reused
        Assert.All(seen, p => Assert.Equal(RpmPersonalizationMode.MessageEmbedding, p.Mode));
        Assert.All(seen, p => Assert.Contains("features could not be extracted", p.FallbackReason!, StringComparison.Ordinal));
        Assert.All(seen, p => Assert.Equal(3, p.Examples.Count));
        Assert.Equal(2, app.Requests.Count);
    }

    [Fact]
    public async Task In_a_container_the_pipeline_may_use_the_personalizing_client_itself_without_recursing()
    {
        var stages = new FakeChatClient();
        var app = new AppChatClient { Stages = stages };
        var services = new ServiceCollection();
        services.AddChatClient(app).UseRpm(o => o.UserIdResolver = (_, _) => "u1");  // every request names u1
        services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        services.AddRpm();
        await using ServiceProvider provider = services.BuildServiceProvider();
        RpmPipeline pipeline = provider.GetRequiredService<RpmPipeline>();
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(6));   // stage calls go through UseRpm
        stages.Reset();

        await provider.GetRequiredService<IChatClient>().GetResponseAsync(Message);

        FakeRequest featureCall = Assert.Single(stages.Requests);
        Assert.Equal(RpmStage.QueryFeatureExtraction, featureCall.Stage);
        Assert.Null(featureCall.Options!.Instructions);                  // RPM's own call was not personalized
        Assert.Contains("<data>", Assert.Single(app.Requests).Options!.Instructions!, StringComparison.Ordinal);

        // An update of u1's model through the same client: every stage call passes through, none is personalized.
        stages.Reset();
        await pipeline.AddHistoryAsync("u1", [new HistoryItem("n1", "Heat (1995). Genres: Action, Crime.", "4.0")]);
        Assert.NotEmpty(stages.Requests);
        Assert.All(stages.Requests, r => Assert.Null(r.Options!.Instructions));
        Assert.Single(app.Requests);
    }

    [Fact]
    public async Task UseRpm_without_a_registered_pipeline_says_what_to_register()
    {
        var services = new ServiceCollection();
        services.AddChatClient(new AppChatClient()).UseRpm(pipelineKey: "movies");
        await using ServiceProvider provider = services.BuildServiceProvider();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => provider.GetRequiredService<IChatClient>().GetResponseAsync(Message, For("u1")));

        Assert.Contains("AddKeyedRpm(\"movies\"", error.Message, StringComparison.Ordinal);
    }
}
