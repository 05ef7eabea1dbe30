using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>Options of <see cref="RpmChatClient"/> (<c>ChatClientBuilder.UseRpm(...)</c>).</summary>
public sealed class RpmChatClientOptions
{
    /// <summary>
    /// Gets or sets how the latest user message is matched to the user's past reasoning. Default
    /// <see cref="RpmPersonalizationMode.QueryFeatures"/>, the paper's (one extra chat-model call per user turn).
    /// </summary>
    public RpmPersonalizationMode Mode { get; set; } = RpmPersonalizationMode.QueryFeatures;

    /// <summary>
    /// Gets or sets a delegate that names the user of a request from its messages and options, for apps that know the
    /// user from elsewhere (an HTTP context, a session). When <see langword="null"/>, or when it returns
    /// <see langword="null"/>, the user is the string in <c>ChatOptions.AdditionalProperties[</c><see cref="RpmChatClient.UserIdKey"/><c>]</c>;
    /// a request with neither passes through unchanged.
    /// </summary>
    public Func<IEnumerable<ChatMessage>, ChatOptions?, string?>? UserIdResolver { get; set; }

    /// <summary>
    /// Gets or sets a callback that sees each personalization before the request goes to the inner client (to show or
    /// log what was added), also one that failed (<see cref="RpmPersonalization.FailureReason"/> says why the request goes
    /// unpersonalized). Not called for requests that pass through (no user, no saved model, no user message).
    /// </summary>
    public Action<RpmPersonalization>? OnPersonalized { get; set; }

    /// <summary>
    /// Gets or sets the longest time personalizing a request may take before the request goes to the inner client
    /// unpersonalized. Default 5 s (as <see cref="RpmPersonalizationOptions.Timeout"/>);
    /// <see cref="Timeout.InfiniteTimeSpan"/> for none.
    /// </summary>
    public TimeSpan PersonalizationTimeout { get; set; } = RpmPersonalizationOptions.DefaultTimeout;

    /// <summary>
    /// Gets or sets a value indicating whether a failure while personalizing (the store, the embedding generator, the
    /// feature call's endpoint, the <see cref="PersonalizationTimeout"/>) fails the request. Default
    /// <see langword="false"/>: the request goes to the inner client unpersonalized and the failure is reported
    /// (<see cref="OnPersonalized"/>, log event 3002, the <c>rpm.personalize.duration</c> metric, the span).
    /// </summary>
    public bool ThrowOnPersonalizationFailure { get; set; }
}
