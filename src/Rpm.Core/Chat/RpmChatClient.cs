using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Chat middleware that personalizes ordinary chat with RPM (arXiv 2505.21082): for a request that names a user with a
/// saved model, it treats the latest user message as the query, retrieves the user's K most similar past reasoning
/// paths (RPM stages 5 and 6) and adds them, with the user's factor statistics, to the request's instructions before
/// calling the inner client. Add it with <c>ChatClientBuilder.UseRpm(...)</c>.
/// </summary>
/// <remarks>
/// <para>
/// The user is named by <c>ChatOptions.AdditionalProperties[</c><see cref="UserIdKey"/><c>]</c> (a string) or by
/// <see cref="RpmChatClientOptions.UserIdResolver"/>. A request that names no user, names a user without a saved model,
/// or has no user message with text passes through unchanged (the same messages and options instance).
/// </para>
/// <para>
/// Cost per user turn: one read of the model's entity tag from the <see cref="IUserModelStore"/> (the model itself comes
/// from memory while the tag matches, <see cref="RpmOptions.UserModelCacheSize"/>), one embedding, and in
/// <see cref="RpmPersonalizationMode.QueryFeatures"/> (the default) one extra chat-model call, made on the inner client
/// of the pipeline; the tool-call rounds of the same turn reuse it (<see cref="RpmOptions.PersonalizationCacheSize"/>).
/// Streaming and tool calls pass through untouched. The chat calls that RPM itself makes while personalizing are never
/// personalized again, even when they go through this client.
/// </para>
/// <para>
/// A failure while personalizing (the store, the embedding generator, the feature call, the
/// <see cref="RpmChatClientOptions.PersonalizationTimeout"/>) never fails the request: it goes to the inner client
/// unpersonalized, and the reason reaches <see cref="RpmChatClientOptions.OnPersonalized"/>, log event 3002, the
/// <c>rpm.personalize.duration</c> metric and the <c>rpm.personalize</c> span, unless
/// <see cref="RpmChatClientOptions.ThrowOnPersonalizationFailure"/> is set.
/// </para>
/// </remarks>
public sealed class RpmChatClient : DelegatingChatClient
{
    /// <summary>The <c>ChatOptions.AdditionalProperties</c> key whose string value names the user of a request: <c>rpm.user_id</c>.</summary>
    public const string UserIdKey = "rpm.user_id";

    private readonly Lazy<RpmPipeline> _pipeline;
    private readonly RpmChatClientOptions _options;
    private readonly RpmPersonalizationOptions _turn;

    /// <summary>Initializes a new instance of the <see cref="RpmChatClient"/> class.</summary>
    /// <param name="innerClient">The client that answers the personalized request.</param>
    /// <param name="pipeline">The RPM pipeline whose store holds the user models and whose stages personalize.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="innerClient"/> or <paramref name="pipeline"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="RpmChatClientOptions.Mode"/> is not defined, or <see cref="RpmChatClientOptions.PersonalizationTimeout"/> is neither positive nor infinite.</exception>
    public RpmChatClient(IChatClient innerClient, RpmPipeline pipeline, RpmChatClientOptions? options = null)
        : this(innerClient, new Lazy<RpmPipeline>(pipeline ?? throw new ArgumentNullException(nameof(pipeline))), options)
    {
    }

    internal RpmChatClient(IChatClient innerClient, Lazy<RpmPipeline> pipeline, RpmChatClientOptions? options)
        : base(innerClient)
    {
        _pipeline = pipeline;
        _options = options ?? new RpmChatClientOptions();
        _turn = new RpmPersonalizationOptions
        {
            Mode = _options.Mode,
            Timeout = _options.PersonalizationTimeout,
            ThrowOnFailure = _options.ThrowOnPersonalizationFailure,
        };
        _turn.Validate(nameof(options));
    }

    /// <inheritdoc/>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ChatOptions? personalized = await PersonalizeAsync(messages, options, cancellationToken).ConfigureAwait(false);
        return await base.GetResponseAsync(messages, personalized, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ChatOptions? personalized = await PersonalizeAsync(messages, options, cancellationToken).ConfigureAwait(false);
        await foreach (ChatResponseUpdate update in base.GetStreamingResponseAsync(messages, personalized, cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    private async Task<ChatOptions?> PersonalizeAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        if (RpmStageCall.IsPersonalizing || RpmStageCall.IsActive)
        {
            return options;
        }

        string? userId = _options.UserIdResolver?.Invoke(messages, options);
        if (userId is null && options?.AdditionalProperties?.TryGetValue(UserIdKey, out string? named) == true)
        {
            userId = named;
        }

        string? message = messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text;
        if (string.IsNullOrWhiteSpace(userId) || string.IsNullOrWhiteSpace(message))
        {
            return options;
        }

        RpmPersonalization? personalization = await _pipeline.Value.PersonalizeTurnAsync(userId, message, _turn, cancellationToken).ConfigureAwait(false);
        if (personalization is null)
        {
            return options;
        }

        _options.OnPersonalized?.Invoke(personalization);
        if (!personalization.IsPersonalized)
        {
            return options;
        }

        ChatOptions forwarded = options?.Clone() ?? new ChatOptions();
        if (forwarded.AdditionalProperties is { } properties && properties.Remove(UserIdKey) && properties.Count == 0)
        {
            forwarded.AdditionalProperties = null;
        }

        forwarded.Instructions = string.IsNullOrWhiteSpace(forwarded.Instructions)
            ? personalization.Instructions
            : forwarded.Instructions + "\n\n" + personalization.Instructions;
        return forwarded;
    }
}
