using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;
using Rpm.Embeddings.MiniLM;


namespace Rpm.Cli;

/// <summary>What the commands use from the outside world; tests replace parts of it (a fake model, a fixed environment).</summary>
public sealed class CliServices
{
    /// <summary>Gets the environment variable reader.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>Gets the check that an endpoint answers: null when it does, else why not.</summary>
    public Func<EndpointSettings, CancellationToken, Task<string?>> Probe { get; init; } = EndpointProbe.CheckAsync;

    /// <summary>Gets the one-line test request sent before a run: null when the model answered, else why not.</summary>
    public Func<IChatClient, EndpointSettings, bool, CancellationToken, Task<string?>> Preflight { get; init; } = EndpointProbe.PreflightAsync;

    /// <summary>
    /// Gets the chat client factory: Rpm.OpenAI's client (Microsoft.Extensions.Http.Resilience retries that honour
    /// Retry-After up to the cap, errors in the server's own words), telling the given callback of each retry.
    /// </summary>
    public Func<EndpointSettings, Action<EndpointRetry>?, IChatClient> CreateChatClient { get; init; } = (settings, onRetry) =>
        RpmOpenAI.CreateChatClient(new OpenAIEndpointOptions
        {
            Endpoint = settings.Endpoint ?? EndpointSettings.OpenAIEndpoint,
            ApiKey = settings.ApiKey,
            Model = settings.Model,
            RetryAfterCap = settings.RetryAfterCap,
            MaxRetryAttempts = settings.MaxRetryAttempts,
            OnRetry = onRetry,
        });

    /// <summary>Gets the embedding generator factory (MiniLM locally unless an embedding endpoint is set).</summary>
    public Func<EndpointSettings, IEmbeddingGenerator<string, Embedding<float>>> CreateEmbeddingGenerator { get; init; } = settings =>
        settings.EmbeddingEndpoint is null
            ? new MiniLmEmbeddingGenerator()
            : new OpenAI.Embeddings.EmbeddingClient(settings.EmbeddingModel, new ApiKeyCredential(settings.ApiKey ?? "unused"), new OpenAIClientOptions { Endpoint = settings.EmbeddingEndpoint })
                .AsIEmbeddingGenerator();
}
