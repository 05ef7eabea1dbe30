using Microsoft.Extensions.AI;

namespace Rpm.Endpoints.Tests.Catalog;

/// <summary>A client that cannot work is refused when it is created, not after the app started as if configured.</summary>
public sealed class ClientCreationTests
{
    [Fact]
    public void OpenAIs_own_endpoint_without_a_key_is_refused_with_what_to_set()
    {
        var error = Assert.Throws<ArgumentException>(() => RpmOpenAI.CreateChatClient(new OpenAIEndpointOptions { Model = "gpt-4o-mini" }));

        Assert.Contains("No API key", error.Message, StringComparison.Ordinal);
        Assert.Contains("ApiKey", error.Message, StringComparison.Ordinal);
        Assert.Contains("http://localhost:11434/v1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_for_OpenAI_or_a_local_server_without_one_is_accepted()
    {
        using IChatClient openAI = RpmOpenAI.CreateChatClient(new OpenAIEndpointOptions { Model = "gpt-4o-mini", ApiKey = "sk-test" });
        using IChatClient local = RpmOpenAI.CreateChatClient(new OpenAIEndpointOptions { Endpoint = new Uri("http://127.0.0.1:11434/v1"), Model = "llama3.1" });

        Assert.NotNull(openAI);
        Assert.NotNull(local);
    }
}
