using Microsoft.Extensions.Options;

namespace Rpm.WebApi.Tests;

/// <summary>An app whose chat endpoint cannot work does not start as if configured.</summary>
public sealed class StartupValidationTests
{
    [Fact]
    public async Task OpenAIs_endpoint_without_a_key_refuses_to_start_naming_what_to_set_and_a_local_server_needs_none()
    {
        await using var endpoint = new FaultyEndpoint();
        await using (var openAI = new WebApiFactory(endpoint, settings: new Dictionary<string, string>
        {
            ["Rpm:Chat:Endpoint"] = "https://api.openai.com/v1",
            ["Rpm:Chat:ApiKey"] = "",
        }))
        {
            var error = Assert.Throws<OptionsValidationException>(() => openAI.CreateClient());
            Assert.Contains("No API key is set for OpenAI's endpoint", error.Message, StringComparison.Ordinal);
            Assert.Contains("Rpm:Chat:ApiKey", error.Message, StringComparison.Ordinal);
            Assert.Contains("http://localhost:11434/v1", error.Message, StringComparison.Ordinal);
        }

        // The loopback endpoint stands for a local server (Ollama, vLLM): no key needed.
        await using var local = new WebApiFactory(endpoint, settings: new Dictionary<string, string> { ["Rpm:Chat:ApiKey"] = "" });
        using HttpClient client = local.CreateClient();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }
}
