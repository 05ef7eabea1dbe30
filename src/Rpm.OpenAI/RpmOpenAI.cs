using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI;

namespace Rpm;

/// <summary>Creates chat clients for OpenAI-compatible endpoints, with transport resilience and readable errors.</summary>
public static class RpmOpenAI
{
    /// <summary>
    /// Creates an <see cref="IChatClient"/> for the endpoint: Microsoft.Extensions.AI's OpenAI client over an
    /// <see cref="HttpClient"/> with <see cref="EndpointResilience"/> (the OpenAI client's own retries turned off, so that
    /// calls are retried in one place), wrapped in an <see cref="OpenAIEndpointChatClient"/>.
    /// </summary>
    /// <param name="options">The endpoint options; validated here.</param>
    /// <param name="httpClient">The HTTP client to send with, already carrying the resilience handler (as the DI registration builds it); <see langword="null"/> to create one.</param>
    /// <param name="loggerFactory">Where the retries of an HTTP client created here are logged; <see langword="null"/> for nowhere.</param>
    /// <returns>The chat client; disposing it disposes an HTTP client it created.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public static IChatClient CreateChatClient(OpenAIEndpointOptions options, HttpClient? httpClient = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        bool owned = httpClient is null;
        httpClient ??= new HttpClient(EndpointResilience.CreateHandler(options, loggerFactory: loggerFactory)) { Timeout = Timeout.InfiniteTimeSpan };
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = options.Endpoint,
            Transport = new HttpClientPipelineTransport(httpClient),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),

            // Per-attempt timeouts live in the resilience pipeline; this one would cut a call that rides out an outage.
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        // A key set but empty (an environment variable left blank) is no key: a local server needs none.
        IChatClient inner = new OpenAIClient(new ApiKeyCredential(string.IsNullOrWhiteSpace(options.ApiKey) ? "unused" : options.ApiKey), clientOptions).GetChatClient(options.Model).AsIChatClient();
        return new OwningChatClient(new OpenAIEndpointChatClient(inner, options), owned ? httpClient : null);
    }

    private sealed class OwningChatClient(IChatClient inner, HttpClient? owned) : DelegatingChatClient(inner)
    {
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                owned?.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
