using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
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
    public void Invalid_options_fail_when_the_pipeline_is_resolved_naming_the_option()
    {
        var services = new ServiceCollection();
        services.AddChatClient(new FakeChatClient());
        services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        services.AddRpm(o => o.RetrievalCount = 0);
        using ServiceProvider provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(provider.GetRequiredService<RpmPipeline>);
        Assert.Contains("RetrievalCount must be between 1 and 100 (was 0)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_options_fail_at_host_start_up()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Rpm:MaxConcurrency"] = "0" });
        builder.Services.AddRpm(builder.Configuration.GetSection("Rpm"));
        using IHost host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("MaxConcurrency must be between 1 and 256 (was 0)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_bind_from_a_configuration_section()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rpm:RetrievalCount"] = "5",
            ["Rpm:MaxConcurrency"] = "2",
            ["Rpm:FeatureExtractionBatchSize"] = "10",
            ["Rpm:ChatOptions:Temperature"] = "0.2",
        }).Build();
        var services = new ServiceCollection();
        services.AddChatClient(new FakeChatClient());
        services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        services.AddRpm(configuration.GetSection("Rpm"), o => o.MaxOutputRetries = 2);
        using ServiceProvider provider = services.BuildServiceProvider();

        RpmOptions options = provider.GetRequiredService<RpmPipeline>().Options;
        Assert.Equal(5, options.RetrievalCount);
        Assert.Equal(2, options.MaxConcurrency);
        Assert.Equal(10, options.FeatureExtractionBatchSize);
        Assert.Equal(0.2f, options.ChatOptions?.Temperature);
        Assert.Equal(2, options.MaxOutputRetries);
        Assert.Equal(8, options.MaxFeaturesPerItem);            // unset keys keep their defaults
    }

    [Fact]
    public void BindConfiguration_on_the_options_builder_works_as_in_any_library()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Personalization:RetrievalCount"] = "4" });
        builder.Services.AddChatClient(new FakeChatClient());
        builder.Services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        builder.Services.AddRpm().Options.BindConfiguration("Personalization");
        using IHost host = builder.Build();

        Assert.Equal(4, host.Services.GetRequiredService<RpmPipeline>().Options.RetrievalCount);
    }

    [Fact]
    public async Task A_second_AddRpm_is_the_one_that_counts_for_what_it_sets()
    {
        var first = new FakeChatClient("first");
        var second = new FakeChatClient("second");
        var services = new ServiceCollection();
        services.AddKeyedChatClient("a", first);
        services.AddKeyedChatClient("b", second);
        services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        RpmBuilder one = services.AddRpm(o => { o.RetrievalCount = 2; o.MaxConcurrency = 2; }, chatClientKey: "a");
        RpmBuilder two = services.AddRpm(o => o.RetrievalCount = 5, chatClientKey: "b");
        using ServiceProvider provider = services.BuildServiceProvider();

        RpmPipeline pipeline = provider.GetRequiredService<RpmPipeline>();
        Assert.Equal(5, pipeline.Options.RetrievalCount);       // the second call's value
        Assert.Equal(2, pipeline.Options.MaxConcurrency);       // the first call's value, which the second did not set
        Assert.Equal("b", two.ChatClientKey);
        UserModel model = await pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        Assert.Equal("second", model.ChatModelId);
        Assert.Equal(0, first.CallCount);
        Assert.Single(provider.GetServices<RpmPipeline>());
        Assert.Equal("a", one.ChatClientKey);
    }

    [Fact]
    public async Task Keyed_pipelines_have_their_own_options_stages_and_stores()
    {
        var movies = new FakeChatClient("movies-model");
        var books = new FakeChatClient("books-model");
        var services = new ServiceCollection();
        services.AddKeyedChatClient("movies-model", movies);
        services.AddKeyedChatClient("books-model", books);
        services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        services.AddKeyedRpm("movies", o => o.RetrievalCount = 2, chatClientKey: "movies-model");
        services.AddKeyedRpm("books", o => o.RetrievalCount = 4, chatClientKey: "books-model");
        var app = new AppChatClient();
        services.AddChatClient(app).UseRpm(pipelineKey: "movies");
        using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        RpmPipeline moviePipeline = provider.GetRequiredKeyedService<RpmPipeline>("movies");
        RpmPipeline bookPipeline = provider.GetRequiredKeyedService<RpmPipeline>("books");
        Assert.Equal(2, moviePipeline.Options.RetrievalCount);
        Assert.Equal(4, bookPipeline.Options.RetrievalCount);
        Assert.NotSame(moviePipeline.Store, bookPipeline.Store);
        Assert.Null(provider.GetService<RpmPipeline>());

        await moviePipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        Assert.Equal(5, movies.CallCount);
        Assert.Equal(0, books.CallCount);
        Assert.Null(await bookPipeline.GetUserModelAsync("u"));
        await provider.GetRequiredService<IChatClient>().GetResponseAsync("Aliens (1986). Genres: Sci-Fi.", new ChatOptions { AdditionalProperties = new() { [RpmChatClient.UserIdKey] = "u" } });
        Assert.Equal(6, movies.CallCount);                     // UseRpm(pipelineKey: "movies") used the movies pipeline
        Assert.Contains("<data>", Assert.Single(app.Requests).Options!.Instructions!, StringComparison.Ordinal);
        Assert.Equal(4, provider.GetRequiredService<IOptionsMonitor<RpmOptions>>().Get(RpmServiceCollectionExtensions.GetOptionsName("books")).RetrievalCount);
    }

    [Fact]
    public void AddMiniLmEmbeddingGenerator_returns_the_builder_so_middleware_chains_onto_it()
    {
        var services = new ServiceCollection();
        RecordingEmbeddingGenerator? recording = null;
        services.AddMiniLmEmbeddingGenerator().Use(inner => recording = new RecordingEmbeddingGenerator(inner));
        using ServiceProvider provider = services.BuildServiceProvider();

        IEmbeddingGenerator<string, Embedding<float>> generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        Assert.Same(recording, generator);
        Assert.IsType<Rpm.Embeddings.MiniLM.MiniLmEmbeddingGenerator>(generator.GetService(typeof(Rpm.Embeddings.MiniLM.MiniLmEmbeddingGenerator)));
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
