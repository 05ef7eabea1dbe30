using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Rpm.Embeddings.MiniLM;
using Rpm.Tests;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.AgentFramework.Tests;

/// <summary>An agent run whose personalization fails is still answered, unpersonalized, unless the app asks for the failure.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class FailedPersonalizationTests(MiniLmFixture miniLm)
{
    private const string Message = "Should I watch Aliens (1986)? Genres: Action, Adventure, Horror, Sci-Fi.";

    private async Task<RpmPipeline> BrokenEmbeddingsAsync(FakeChatClient stages)
    {
        var store = new InMemoryUserModelStore();
        await TestPipelines.Create(stages, miniLm.Generator, store: store).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(8));
        stages.Reset();

        // The same store served by a process whose embedding model is gone: a real generator, disposed.
        var broken = new MiniLmEmbeddingGenerator();
        broken.Dispose();
        return TestPipelines.Create(stages, broken, store: store);
    }

    [Fact]
    public async Task A_run_whose_personalization_fails_is_answered_unpersonalized_and_the_callback_says_why()
    {
        var stages = new FakeChatClient();
        RpmPipeline pipeline = await BrokenEmbeddingsAsync(stages);
        var app = new AppChatClient();
        RpmPersonalization? seen = null;
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1", OnPersonalized = p => seen = p });
        var agent = new ChatClientAgent(app, new ChatClientAgentOptions { ChatOptions = new ChatOptions { Instructions = "Be brief." }, AIContextProviders = [provider] });

        AgentResponse response = await agent.RunAsync(Message, await agent.CreateSessionAsync());

        Assert.Equal("You will like it.", response.Text);
        Assert.Equal("Be brief.", Assert.Single(app.Requests).Options!.Instructions);     // nothing of RPM's was added
        Assert.NotNull(seen);
        Assert.False(seen.IsPersonalized);
        Assert.IsType<ObjectDisposedException>(seen.Exception);
        Assert.Single(stages.Requests);                                                    // the feature call was made, once
    }

    [Fact]
    public async Task Asked_to_throw_the_run_fails_with_the_failure()
    {
        RpmPipeline pipeline = await BrokenEmbeddingsAsync(new FakeChatClient());
        var app = new AppChatClient();
        var provider = new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = "u1", ThrowOnPersonalizationFailure = true });
        var agent = new ChatClientAgent(app, new ChatClientAgentOptions { AIContextProviders = [provider] });

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await agent.RunAsync(Message, await agent.CreateSessionAsync()));
        Assert.Empty(app.Requests);
    }

    [Fact]
    public void A_timeout_that_is_neither_positive_nor_infinite_is_refused_with_its_name()
    {
        var error = Assert.Throws<ArgumentException>(() => new RpmContextProvider(
            TestPipelines.Create(new FakeChatClient(), miniLm.Generator),
            new RpmContextProviderOptions { UserId = "u1", PersonalizationTimeout = TimeSpan.Zero }));
        Assert.Contains("PersonalizationTimeout", error.Message, StringComparison.Ordinal);
    }
}
