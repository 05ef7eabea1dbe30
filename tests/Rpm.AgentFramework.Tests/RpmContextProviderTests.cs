using System.Text.Json;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rpm.Tests;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.AgentFramework.Tests;

/// <summary>
/// RpmContextProvider in a real Agent Framework <see cref="ChatClientAgent"/> (Microsoft.Agents.AI 1.28.0) over a fake app
/// model, with a user model built by the fake RPM model and the real local MiniLM embeddings.
/// </summary>
[Collection(MiniLmCollection.Name)]
public sealed class RpmContextProviderTests(MiniLmFixture miniLm)
{
    private const string Message = "Should I watch Aliens (1986)? Genres: Action, Adventure, Horror, Sci-Fi.";
    private const string AgentInstructions = "You are a film critic.";
    private const int HistorySize = 12;

    private async Task<(RpmPipeline Pipeline, FakeChatClient Stages)> BuildAsync()
    {
        var stages = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(stages, miniLm.Generator);
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(HistorySize));
        stages.Reset();
        return (pipeline, stages);
    }

    private static ChatClientAgent Agent(IChatClient chatClient, RpmContextProvider provider, params AITool[] tools) =>
        new(chatClient, new ChatClientAgentOptions
        {
            ChatOptions = new ChatOptions { Instructions = AgentInstructions, Tools = tools.Length > 0 ? [.. tools] : null },
            AIContextProviders = [provider],
        });

    [Fact]
    public async Task A_run_gets_the_users_statistics_and_retrieved_reasoning_as_instructions_for_one_extra_call()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient();
        RpmPersonalization? seen = null;
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1", OnPersonalized = p => seen = p });
        ChatClientAgent agent = Agent(app, provider);

        AgentResponse response = await agent.RunAsync(Message, await agent.CreateSessionAsync());

        Assert.Equal("You will like it.", response.Text);
        FakeRequest featureCall = Assert.Single(stages.Requests);
        Assert.Equal(RpmStage.QueryFeatureExtraction, featureCall.Stage);
        Assert.Contains(Message, featureCall.DataText, StringComparison.Ordinal);

        var (sent, options) = Assert.Single(app.Requests);
        Assert.Equal(Message, Assert.Single(sent, m => m.Role == ChatRole.User).Text);   // the messages are not changed
        string instructions = options!.Instructions!;
        Assert.StartsWith(AgentInstructions + "\n", instructions, StringComparison.Ordinal);
        Assert.Contains("<data>", instructions, StringComparison.Ordinal);
        Assert.Contains("\"propensity\" gives", instructions, StringComparison.Ordinal);
        Assert.Contains("\"messageFeatures\"", instructions, StringComparison.Ordinal);

        Assert.NotNull(seen);
        Assert.Equal(Message, seen.Message);
        Assert.Equal(RpmPersonalizationMode.QueryFeatures, seen.Mode);
        Assert.Equal(1, seen.Usage.Calls);
        Assert.EndsWith(seen.Instructions, instructions, StringComparison.Ordinal);
        Assert.Equal(3, seen.Examples.Count);
        Assert.All(seen.Examples, e => Assert.Contains("Sci-Fi", e.Path.Item.Input, StringComparison.Ordinal));
        Assert.All(seen.Examples, e => Assert.Contains(e.Path.Reasoning, instructions, StringComparison.Ordinal));
        Assert.NotEmpty(seen.UserModel!.Statistics);
        Assert.All(seen.UserModel!.Factors, f => Assert.Contains($"\"factor\":\"{f.Name}\"", instructions, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(RpmPersonalizationMode.QueryFeatures, 1)]
    [InlineData(RpmPersonalizationMode.MessageEmbedding, 0)]
    public async Task Each_turn_costs_the_modes_extra_calls_and_its_query_is_that_turns_message_not_the_history(RpmPersonalizationMode mode, int callsPerTurn)
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient();
        List<RpmPersonalization> seen = [];
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1", Mode = mode, OnPersonalized = seen.Add });
        ChatClientAgent agent = Agent(app, provider);
        AgentSession session = await agent.CreateSessionAsync();
        string[] turns = [Message, "And Notting Hill (1999)? Genres: Comedy, Romance.", "What about Gattaca (1997)? Genres: Drama, Sci-Fi, Thriller."];

        foreach (string turn in turns)
        {
            await agent.RunAsync(turn, session);
        }

        Assert.Equal(turns.Length * callsPerTurn, stages.Requests.Count);
        Assert.Equal(turns, seen.Select(p => p.Message));
        Assert.All(seen, p => Assert.Equal(mode, p.Mode));
        Assert.All(seen, p => Assert.Equal(callsPerTurn, p.Usage.Calls));
        for (int i = 0; i < stages.Requests.Count; i++)
        {
            Assert.Contains(turns[i], stages.Requests[i].DataText, StringComparison.Ordinal);
            Assert.DoesNotContain(turns[(i + 1) % turns.Length], stages.Requests[i].DataText, StringComparison.Ordinal);
        }

        // The agent does send the history to the model: the provider's query is still only the turn's own message.
        Assert.Equal(3, app.Requests.Count);
        Assert.Equal(turns.Length, app.Requests[2].Messages.Count(m => m.Role == ChatRole.User));
        Assert.All(app.Requests.Zip(seen), pair => Assert.EndsWith(pair.Second.Instructions, pair.First.Options!.Instructions!, StringComparison.Ordinal));
        Assert.NotEqual(seen[0].Examples.Select(e => e.Path.Item.Id), seen[1].Examples.Select(e => e.Path.Item.Id));
    }

    [Fact]
    public async Task Streaming_runs_are_personalized_and_every_update_passes_through()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient();
        ChatClientAgent agent = Agent(app, new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1" }));

        List<string> updates = [];
        await foreach (AgentResponseUpdate update in agent.RunStreamingAsync(Message, await agent.CreateSessionAsync()))
        {
            updates.Add(update.Text);
        }

        Assert.Equal(["You ", "will ", "like it."], updates);
        Assert.Single(stages.Requests);
        Assert.Contains("<data>", Assert.Single(app.Requests).Options!.Instructions!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tool_calls_pass_through_and_a_run_pays_for_one_personalization()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient { CallTool = "lookup_movie" };
        int toolCalls = 0;
        AIFunction lookup = AIFunctionFactory.Create((string title) => { toolCalls++; return $"{title}: directed by James Cameron."; }, "lookup_movie");
        ChatClientAgent agent = Agent(app, new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1" }), lookup);

        AgentResponse response = await agent.RunAsync(Message, await agent.CreateSessionAsync());

        Assert.Equal("You will like it.", response.Text);
        Assert.Equal(1, toolCalls);
        Assert.Equal(2, app.Requests.Count);                                 // the tool-call round and the answer
        Assert.Contains(app.Requests[1].Messages, m => m.Contents.OfType<FunctionResultContent>().Any());
        Assert.All(app.Requests, r => Assert.Contains("<data>", r.Options!.Instructions!, StringComparison.Ordinal));
        Assert.All(app.Requests, r => Assert.Contains(r.Options!.Tools!, t => t.Name == "lookup_movie"));
        Assert.Single(stages.Requests);                                      // one feature call for the whole run
    }

    [Fact]
    public async Task A_user_without_a_model_or_a_run_without_user_text_of_its_own_gets_nothing_added()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient();
        int personalized = 0;
        ChatClientAgent stranger = Agent(app, new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "nobody", OnPersonalized = _ => personalized++ }));
        ChatClientAgent known = Agent(app, new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1", OnPersonalized = _ => personalized++ }));

        await stranger.RunAsync(Message, await stranger.CreateSessionAsync());
        AgentSession session = await known.CreateSessionAsync();
        await known.RunAsync(Message, session);
        await known.RunAsync(session);                                       // no new message: the history alone is not a query

        Assert.Equal(3, app.Requests.Count);
        Assert.Equal(AgentInstructions, app.Requests[0].Options!.Instructions);
        Assert.Contains("<data>", app.Requests[1].Options!.Instructions!, StringComparison.Ordinal);
        Assert.Equal(AgentInstructions, app.Requests[2].Options!.Instructions);
        Assert.Contains(app.Requests[2].Messages, m => m.Role == ChatRole.User && m.Text == Message);
        Assert.Equal(1, personalized);
        Assert.Single(stages.Requests);
    }

    [Fact]
    public async Task A_resolver_names_a_user_per_run_from_the_run_options()
    {
        var (pipeline, stages) = await BuildAsync();
        var app = new AppChatClient();
        List<string> personalizedFor = [];
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions
        {
            UserIdResolver = (_, _) => AIAgent.CurrentRunContext?.RunOptions?.AdditionalProperties?.TryGetValue("user", out string? user) == true ? user : null,
            OnPersonalized = p => personalizedFor.Add(p.UserId),
        });
        ChatClientAgent agent = Agent(app, provider);

        await agent.RunAsync(Message, await agent.CreateSessionAsync(), new AgentRunOptions { AdditionalProperties = new() { ["user"] = "u1" } });
        await agent.RunAsync(Message, await agent.CreateSessionAsync(), new AgentRunOptions { AdditionalProperties = new() { ["user"] = "nobody" } });
        await agent.RunAsync(Message, await agent.CreateSessionAsync());

        Assert.Equal(["u1"], personalizedFor);
        Assert.Contains("<data>", app.Requests[0].Options!.Instructions!, StringComparison.Ordinal);
        Assert.Equal(AgentInstructions, app.Requests[1].Options!.Instructions);
        Assert.Equal(AgentInstructions, app.Requests[2].Options!.Instructions);
        Assert.Single(stages.Requests);
    }

    [Fact]
    public async Task Recording_the_choice_of_a_sessions_run_adds_exactly_one_history_item_once()
    {
        var (pipeline, stages) = await BuildAsync();
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1" });
        ChatClientAgent agent = Agent(new AppChatClient(), provider);
        AgentSession session = await agent.CreateSessionAsync();
        await agent.RunAsync(Message, session);
        UserModel before = (await pipeline.GetUserModelAsync("u1"))!;
        stages.Reset();

        UserModel after = await provider.RecordChoiceAsync(session, "4.5");

        Assert.Equal(before.Paths.Count + 1, after.Paths.Count);
        ReasoningPath added = Assert.Single(after.Paths, p => before.Paths.All(b => b.Item.Id != p.Item.Id));
        Assert.Equal(Message, added.Item.Input);
        Assert.Equal("4.5", added.Item.Output);
        Assert.StartsWith("chat-", added.Item.Id, StringComparison.Ordinal);
        Assert.NotNull(added.Item.Timestamp);
        Assert.Equal(after.Paths.Count, (await pipeline.GetUserModelAsync("u1"))!.Paths.Count);   // saved in the store
        Assert.Equal(2, stages.Requests.Count);                              // the new item's features (tagged with the factors) and its reasoning
        Assert.All(stages.Requests, r => Assert.Equal(added.Item.Id, r.ItemId));
        Assert.Equal(RpmStage.ReasoningPath, stages.Requests[1].Stage);

        await Assert.ThrowsAsync<InvalidOperationException>(() => provider.RecordChoiceAsync(session, "4.5"));
        Assert.Equal(after.Paths.Count, (await pipeline.GetUserModelAsync("u1"))!.Paths.Count);
    }

    [Fact]
    public async Task Without_a_choice_from_the_app_nothing_is_recorded()
    {
        var (pipeline, stages) = await BuildAsync();
        List<RpmExchange> exchanges = [];
        var asked = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1", ChoiceResolver = e => { exchanges.Add(e); return null; } });
        var silent = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1" });
        UserModel before = (await pipeline.GetUserModelAsync("u1"))!;

        foreach (ChatClientAgent agent in new[] { Agent(new AppChatClient(), asked), Agent(new AppChatClient(), silent) })
        {
            await agent.RunAsync(Message, await agent.CreateSessionAsync());
        }

        RpmExchange exchange = Assert.Single(exchanges);
        Assert.Equal("u1", exchange.UserId);
        Assert.Equal(Message, exchange.Query);
        Assert.Equal("You will like it.", exchange.ResponseMessages[^1].Text);
        UserModel now = (await pipeline.GetUserModelAsync("u1"))!;
        Assert.Equal(before.Version, now.Version);
        Assert.Equal(HistorySize, now.Paths.Count);
        Assert.Single(stages.Requests);                                    // one feature call (the second run of the message reuses the pipeline's personalization), nothing for recording
    }

    [Fact]
    public async Task A_choice_resolver_records_the_choice_the_app_passed_with_the_run_and_only_then()
    {
        var (pipeline, _) = await BuildAsync();
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions
        {
            UserId = "u1",
            ChoiceResolver = e => e.RunOptions?.AdditionalProperties?.TryGetValue("rating", out string? rating) == true ? rating : null,
        });
        ChatClientAgent agent = Agent(new AppChatClient(), provider);
        AgentSession session = await agent.CreateSessionAsync();
        const string Second = "And Notting Hill (1999)? Genres: Comedy, Romance.";

        await agent.RunAsync(Message, session, new AgentRunOptions { AdditionalProperties = new() { ["rating"] = "4" } });
        Assert.Equal(HistorySize + 1, (await pipeline.GetUserModelAsync("u1"))!.Paths.Count);
        await agent.RunAsync(Second, session);
        Assert.Equal(HistorySize + 1, (await pipeline.GetUserModelAsync("u1"))!.Paths.Count);

        UserModel model = await provider.RecordChoiceAsync(session, "1");      // the app learns the second choice later

        Assert.Equal(HistorySize + 2, model.Paths.Count);
        var added = model.Paths.Where(p => p.Item.Id.StartsWith("chat-", StringComparison.Ordinal)).Select(p => (p.Item.Input, p.Item.Output)).ToList();
        Assert.Equal([(Second, "1.0"), (Message, "4.0")], added.Order());   // outputs as the task writes ratings
    }

    [Fact]
    public async Task An_invalid_choice_is_refused_before_anything_is_paid_and_the_run_stays_recordable()
    {
        var (pipeline, stages) = await BuildAsync();
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1" });
        ChatClientAgent agent = Agent(new AppChatClient(), provider);
        AgentSession session = await agent.CreateSessionAsync();
        await agent.RunAsync(Message, session);
        stages.Reset();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => provider.RecordChoiceAsync(session, "great"));
        Assert.Equal("choice", error.ParamName);
        Assert.Contains("movielens-rating", error.Message, StringComparison.Ordinal);
        Assert.Empty(stages.Requests);
        await Assert.ThrowsAsync<ArgumentException>(() => provider.RecordChoiceAsync("u1", Message, " "));
        await Assert.ThrowsAsync<InvalidOperationException>(() => provider.RecordChoiceAsync("nobody", Message, "4"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await provider.RecordChoiceAsync(await agent.CreateSessionAsync(), "4"));

        UserModel model = await provider.RecordChoiceAsync(session, "4");
        Assert.Equal(HistorySize + 1, model.Paths.Count);
    }

    [Fact]
    public async Task The_sessions_run_can_be_recorded_after_the_session_is_serialized_and_restored()
    {
        var (pipeline, _) = await BuildAsync();
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1" });
        ChatClientAgent agent = Agent(new AppChatClient(), provider);
        AgentSession session = await agent.CreateSessionAsync();
        await agent.RunAsync(Message, session);

        JsonElement saved = await agent.SerializeSessionAsync(session);
        AgentSession restored = await agent.DeserializeSessionAsync(JsonDocument.Parse(saved.GetRawText()).RootElement);
        UserModel model = await provider.RecordChoiceAsync(restored, "5");

        Assert.Contains("RpmContextProvider", saved.GetRawText(), StringComparison.Ordinal);
        Assert.Contains(model.Paths, p => p.Item.Input == Message && p.Item.Output == "5.0");
    }

    [Fact]
    public async Task Recording_through_the_explicit_method_names_the_input_and_choice()
    {
        var (pipeline, stages) = await BuildAsync();
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1" });

        UserModel first = await provider.RecordChoiceAsync("u1", "Heat (1995). Genres: Action, Crime, Thriller.", "4");
        UserModel second = await provider.RecordChoiceAsync("u1", "Heat (1995). Genres: Action, Crime, Thriller.", "3.5");

        Assert.Equal(HistorySize + 2, second.Paths.Count);
        Assert.Equal(first.Version + 1, second.Version);
        Assert.Equal(2, second.Paths.Select(p => p.Item.Id).Where(id => id.StartsWith("chat-", StringComparison.Ordinal)).Distinct().Count());
        Assert.Equal(4, stages.Requests.Count);
    }

    [Fact]
    public async Task As_chat_client_middleware_rpms_own_stage_calls_are_not_personalized_again_and_a_query_is_recorded_once()
    {
        var stages = new FakeChatClient();
        var store = new InMemoryUserModelStore();
        await TestPipelines.Create(stages, miniLm.Generator, store: store).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(HistorySize));
        stages.Reset();

        // The pipeline's chat client is the very client that carries the provider, as in an app with one chat client.
        var app = new AppChatClient { Stages = stages, CallTool = "lookup_movie" };
        AIFunction lookup = AIFunctionFactory.Create((string title) => $"{title}: directed by James Cameron.", "lookup_movie");
        var lateBound = new LateBoundChatClient();
        var options = new RpmOptions();
        var pipeline = new RpmPipeline(
            lateBound,
            new FeatureExtractor(lateBound, options),
            new FactorConstructor(lateBound, options),
            new StatisticsBuilder(),
            new ReasoningPathBuilder(lateBound, options),
            new FeatureRetriever(miniLm.Generator, options),
            store,
            new InMemoryBuildCheckpointStore(),
            options);
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1", ChoiceResolver = _ => "4" });
        lateBound.Inner = new ChatClientBuilder(app).UseAIContextProviders(provider).Build();
        var agent = new ChatClientAgent(lateBound.Inner, new ChatClientAgentOptions { ChatOptions = new() { Instructions = AgentInstructions, Tools = [lookup] } });

        await agent.RunAsync(Message, await agent.CreateSessionAsync());

        FakeRequest featureCall = stages.Requests[0];
        Assert.Equal(RpmStage.QueryFeatureExtraction, featureCall.Stage);
        Assert.Null(featureCall.Options!.Instructions);                    // RPM's own call carried no personalization
        Assert.Equal(2, app.Requests.Count);                               // the tool-call round and the answer, each personalized
        Assert.All(app.Requests, r => Assert.Contains("<data>", r.Options!.Instructions!, StringComparison.Ordinal));

        // As middleware the provider runs per service call: each round pays its feature call, and the choice the resolver
        // gave after the first round is recorded once (features and reasoning of the new item), not again after the second.
        Assert.Equal(
            [RpmStage.QueryFeatureExtraction, RpmStage.QueryFeatureExtraction, RpmStage.ReasoningPath, RpmStage.QueryFeatureExtraction],
            stages.Requests.Select(r => r.Stage));
        Assert.All(stages.Requests, r => Assert.Null(r.Options!.Instructions));
        Assert.Equal(2, stages.Requests.Count(r => r.ItemId?.StartsWith("chat-", StringComparison.Ordinal) == true));
        Assert.Equal(HistorySize + 1, (await store.GetAsync("u1"))!.Paths.Count);
    }

    [Fact]
    public async Task Options_that_name_no_user_are_refused_at_construction_and_registration()
    {
        var (pipeline, _) = await BuildAsync();

        Assert.Throws<ArgumentException>(() => new RpmContextProvider(pipeline, new RpmContextProviderOptions()));
        Assert.Throws<ArgumentException>(() => new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = " " }));
        Assert.Throws<ArgumentException>(() => new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1", Mode = (RpmPersonalizationMode)7 }));
        Assert.Throws<ArgumentNullException>(() => new RpmContextProvider(null!, new RpmContextProviderOptions { UserId = "u1" }));
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddRpmContextProvider(_ => { }));
        Assert.Contains("UserIdResolver", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddRpmContextProvider_builds_the_provider_over_the_containers_pipeline()
    {
        var stages = new FakeChatClient();
        var services = new ServiceCollection();
        services.AddChatClient(stages);
        services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        services.AddRpm();
        services.AddRpmContextProvider(o => o.UserId = "u1");
        await using ServiceProvider container = services.BuildServiceProvider();
        RpmPipeline pipeline = container.GetRequiredService<RpmPipeline>();
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(6));
        stages.Reset();

        var provider = container.GetRequiredService<RpmContextProvider>();
        var app = new AppChatClient();
        ChatClientAgent agent = Agent(app, provider);
        await agent.RunAsync(Message, await agent.CreateSessionAsync());

        Assert.Same(pipeline, provider.Pipeline);
        Assert.Same(provider, agent.GetService<RpmContextProvider>());
        Assert.Contains("<data>", Assert.Single(app.Requests).Options!.Instructions!, StringComparison.Ordinal);
        Assert.Single(stages.Requests);
    }

    [Fact]
    public async Task AddRpmContextProvider_with_an_unregistered_pipeline_key_says_what_to_register()
    {
        var services = new ServiceCollection();
        services.AddRpmContextProvider(o => o.UserId = "u1", pipelineKey: "movies");
        await using ServiceProvider container = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => container.GetRequiredService<RpmContextProvider>());

        Assert.Contains("AddKeyedRpm(\"movies\"", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A chat client whose inner client is set after construction, to close the loop pipeline → client → provider → pipeline.</summary>
    private sealed class LateBoundChatClient : IChatClient
    {
        public IChatClient? Inner { get; set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Inner!.GetResponseAsync(messages, options, cancellationToken);

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Inner!.GetStreamingResponseAsync(messages, options, cancellationToken);

        public object? GetService(Type serviceType, object? serviceKey = null) => Inner?.GetService(serviceType, serviceKey);

        public void Dispose()
        {
        }
    }
}
