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
    /// log what was added). Not called for requests that pass through.
    /// </summary>
    public Action<RpmPersonalization>? OnPersonalized { get; set; }

    /// <summary>
    /// Gets or sets how many personalizations are kept so that the further requests of one user turn (tool-call rounds
    /// of a <c>FunctionInvokingChatClient</c> above, retries) reuse the first instead of paying for it again. Keyed by
    /// user, model version, mode and message. Default 256; 0 keeps none.
    /// </summary>
    public int PersonalizationCacheSize { get; set; } = 256;
}
