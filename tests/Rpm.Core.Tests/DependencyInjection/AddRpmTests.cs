using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Tests.DependencyInjection;

[Collection(MiniLmCollection.Name)]
public sealed class AddRpmTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task AddRpm_composes_the_pipeline_over_the_registered_chat_client_and_embedding_generator()
    {
        var chat = new FakeChatClient();
        var services = new ServiceCollection();
        services.AddChatClient(chat);
        services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        services.AddRpm(o => o.RetrievalCount = 2);
        using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        RpmPipeline pipeline = provider.GetRequiredService<RpmPipeline>();
        Assert.Equal(2, pipeline.Options.RetrievalCount);
        Assert.IsType<FeatureExtractor>(provider.GetRequiredService<IFeatureExtractor>());
        Assert.IsType<StatisticsBuilder>(provider.GetRequiredService<IStatisticsBuilder>());
        Assert.IsType<ReasoningPathBuilder>(provider.GetRequiredService<IReasoningPathBuilder>());
        Assert.IsType<FeatureRetriever>(provider.GetRequiredService<IFeatureRetriever>());
        Assert.IsType<InMemoryUserModelStore>(provider.GetRequiredService<IUserModelStore>());
        Assert.Same(pipeline.Store, provider.GetRequiredService<IUserModelStore>());

        UserModel model = await pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(3));
        RpmResponse response = await pipeline.RespondAsync(model, "movie: Aliens (1986). Genres: Sci-Fi.");
        Assert.Equal(2, response.Examples.Count);
        Assert.Equal(3 * 2 + 1 + 2, chat.CallCount);
    }

    [Fact]
    public async Task Keyed_clients_are_used_when_keys_are_given()
    {
        var unkeyed = new FakeChatClient("unkeyed");
        var keyed = new FakeChatClient("keyed");
        var services = new ServiceCollection();
        services.AddChatClient(unkeyed);
        services.AddKeyedChatClient("rpm", keyed);
        services.AddKeyedEmbeddingGenerator<string, Embedding<float>>("local", new RecordingEmbeddingGenerator(miniLm.Generator));
        services.AddRpm(chatClientKey: "rpm", embeddingGeneratorKey: "local");
        using ServiceProvider provider = services.BuildServiceProvider();

        UserModel model = await provider.GetRequiredService<RpmPipeline>().BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(2));

        Assert.Equal(0, unkeyed.CallCount);
        Assert.Equal(5, keyed.CallCount);
        Assert.Equal("keyed", model.ChatModelId);
    }

    [Fact]
    public void Invalid_options_fail_at_registration()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddRpm(o => o.RetrievalCount = 0));
        Assert.Contains("RetrievalCount", ex.Message);
    }

    [Fact]
    public void A_missing_chat_client_is_explained()
    {
        var services = new ServiceCollection();
        services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        services.AddRpm(chatClientKey: "missing");
        using ServiceProvider provider = services.BuildServiceProvider();
        var ex = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<RpmPipeline>);
        Assert.Contains("AddKeyedChatClient(\"missing\"", ex.Message);
    }

    [Fact]
    public void Stages_registered_by_the_application_are_kept()
    {
        var custom = new FeatureExtractor(new FakeChatClient(), new RpmOptions());
        var services = new ServiceCollection();
        services.AddSingleton<IFeatureExtractor>(custom);
        services.AddChatClient(new FakeChatClient());
        services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        var store = new InMemoryUserModelStore();
        services.AddRpm().UseUserModelStore(_ => store);
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(custom, provider.GetRequiredService<IFeatureExtractor>());
        Assert.Same(store, provider.GetRequiredService<RpmPipeline>().Store);
    }
}
