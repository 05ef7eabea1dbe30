using Microsoft.Extensions.AI;
using Rpm;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Lets the chat endpoint's health check use the app's real calls instead of paying for probes.</summary>
public static class RpmHealthChatClientBuilderExtensions
{
    /// <summary>
    /// Records whether each call through the client reached the endpoint (an answer or a first streamed update; an
    /// <see cref="RpmEndpointException"/>, <see cref="HttpRequestException"/> or <see cref="TimeoutException"/> is a
    /// failure; a cancellation or an answer RPM could not use is neither). The chat check (<c>AddRpmChatCheck</c>, unkeyed
    /// client) reports the last recorded call when it is more recent than its last probe and within its cache duration.
    /// Without a chat check registered, the client passes through unchanged.
    /// </summary>
    /// <param name="builder">The chat client builder (<c>AddChatClient</c>, <c>AddRpmOpenAIChatClient</c>).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ChatClientBuilder UseRpmHealthObservation(this ChatClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) => services.GetService<ChatCallObserver>() is { } observer
            ? new HealthObservingChatClient(inner, observer, services.GetService<TimeProvider>() ?? TimeProvider.System)
            : inner);
    }
}
