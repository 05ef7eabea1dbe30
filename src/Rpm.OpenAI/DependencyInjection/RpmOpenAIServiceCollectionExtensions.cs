using Microsoft.Extensions.AI;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rpm;


namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers an OpenAI-compatible endpoint as the container's <see cref="IChatClient"/>, the way Rpm needs it.</summary>
public static class RpmOpenAIServiceCollectionExtensions
{
    /// <summary>The name of the HTTP client the registration configures (<c>IHttpClientFactory</c>).</summary>
    public const string HttpClientName = "Rpm.OpenAI";

    /// <summary>
    /// Registers the endpoint as the <see cref="IChatClient"/>: an <see cref="HttpClient"/> from <c>IHttpClientFactory</c>
    /// with Microsoft.Extensions.Http.Resilience's handler (<see cref="EndpointResilience"/>), the OpenAI client with its own
    /// retries off, and <see cref="OpenAIEndpointChatClient"/> for readable errors. Options are validated at start-up.
    /// Each request gets the pipeline of its retry profile (<see cref="EndpointResilience.CurrentProfile"/>): the calls of a
    /// build or update <see cref="OpenAIEndpointOptions.Build"/>'s, a live turn's personalization one attempt, every other
    /// call (a chat turn, an agent run, a query in a web request) <see cref="OpenAIEndpointOptions.Interactive"/>'s.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the endpoint, model, key and the two retry profiles.</param>
    /// <returns>The chat-client builder, to add middleware (<c>.UseDistributedCache()</c>, <c>.UseOpenTelemetry()</c>).</returns>
    /// <remarks>
    /// Start-up (<c>ValidateOnStart</c>) fails with an <see cref="OptionsValidationException"/> that says what to set when
    /// an option is invalid or the endpoint is OpenAI's own (the default) and no API key is set.
    /// </remarks>
    public static ChatClientBuilder AddRpmOpenAIChatClient(this IServiceCollection services, Action<OpenAIEndpointOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<OpenAIEndpointOptions>()
            .Configure(configure)
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .Validate(
                o => !NeedsKey(o),
                "No API key is set for OpenAI's endpoint (https://api.openai.com/v1, which is also the default when no endpoint is configured), so every call would fail with 401: "
                + "set ApiKey (e.g. Rpm:Chat:ApiKey from user secrets or the environment, never in code), or set Endpoint to your own OpenAI-compatible server, e.g. http://localhost:11434/v1.")
            .ValidateOnStart();
        // One pipeline per retry profile, chosen for each request by Microsoft.Extensions.Http.Resilience's own selector
        // (the key is the profile's name, in its metrics and logs): RpmStageCall's marks flow into the handler.
        services.AddHttpClient(HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler(EndpointResilience.PipelineName, (pipeline, context) =>
                pipeline.AddRpmEndpointResilience(
                    context.ServiceProvider.GetRequiredService<IOptions<OpenAIEndpointOptions>>().Value,
                    ProfileOf(context.InstanceName),
                    context.ServiceProvider.GetService<ILoggerFactory>()))
            .SelectPipelineBy(_ => _ => EndpointResilience.PipelineKey(EndpointResilience.CurrentProfile));
        return services.AddChatClient(provider => RpmOpenAI.CreateChatClient(
            provider.GetRequiredService<IOptions<OpenAIEndpointOptions>>().Value,
            provider.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName)));
    }

    // OpenAI's own endpoint always needs a key; a local or self-hosted server may need none. Checked at start-up (an app
    // started without one would look configured and fail every call), not when a client is created by hand.
    private static bool NeedsKey(OpenAIEndpointOptions options) =>
        string.IsNullOrWhiteSpace(options.ApiKey) && string.Equals(options.Endpoint?.Host, "api.openai.com", StringComparison.OrdinalIgnoreCase);

    private static EndpointRetryProfile ProfileOf(string pipelineKey) =>
        Enum.GetValues<EndpointRetryProfile>().First(p => EndpointResilience.PipelineKey(p) == pipelineKey);
}
