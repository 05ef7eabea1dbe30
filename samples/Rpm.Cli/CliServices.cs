using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;
using Rpm.Embeddings.MiniLM;
using Rpm.Evaluation;


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
    /// Retry-After up to the cap, errors in the server's own words), telling the given callback of each retry. Every
    /// command of rpm is batch work, so both retry profiles get the patient build settings (8 retries, backoff from 2 s to
    /// 30 s, 5-minute attempts) with the settings' retries and Retry-After cap: an evaluation's queries wait out an outage
    /// as its builds do, where a chat app's queries would fail fast.
    /// </summary>
    public Func<EndpointSettings, Action<EndpointRetry>?, IChatClient> CreateChatClient { get; init; } = (settings, onRetry) =>
        RpmOpenAI.CreateChatClient(new OpenAIEndpointOptions
        {
            Endpoint = settings.Endpoint ?? EndpointSettings.OpenAIEndpoint,
            ApiKey = settings.ApiKey,
            Model = settings.Model,
            Build = Patient(settings),
            Interactive = Patient(settings),
            OnRetry = onRetry,
        });

    /// <summary>Gets how the answer cache is opened (tests open one that fills up, as a full disk does).</summary>
    internal Func<string, CancellationToken, Task<SqliteResponseStore>> OpenAnswerCache { get; init; } = (path, ct) => SqliteResponseStore.OpenAsync(path, ct);

    /// <summary>Gets the embedding generator factory (MiniLM locally unless an embedding endpoint is set).</summary>
    public Func<EndpointSettings, IEmbeddingGenerator<string, Embedding<float>>> CreateEmbeddingGenerator { get; init; } = settings =>
        settings.EmbeddingEndpoint is null
            ? new MiniLmEmbeddingGenerator()
            : new OpenAI.Embeddings.EmbeddingClient(settings.EmbeddingModel, new ApiKeyCredential(settings.ApiKey ?? "unused"), new OpenAIClientOptions { Endpoint = settings.EmbeddingEndpoint })
                .AsIEmbeddingGenerator();

    private static EndpointRetryOptions Patient(EndpointSettings settings)
    {
        EndpointRetryOptions patient = EndpointRetryOptions.CreateBuildDefaults();
        patient.MaxRetryAttempts = settings.MaxRetryAttempts;
        patient.RetryAfterCap = settings.RetryAfterCap;
        return patient;
    }
}
