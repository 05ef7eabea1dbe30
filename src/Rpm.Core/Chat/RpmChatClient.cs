using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Memory;

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
/// Cost per user turn: one read of the user's model from the <see cref="IUserModelStore"/> per request, one embedding,
/// and in <see cref="RpmPersonalizationMode.QueryFeatures"/> (the default) one extra chat-model call, made on the inner
/// client of the pipeline; the tool-call rounds of the same turn reuse it
/// (<see cref="RpmChatClientOptions.PersonalizationCacheSize"/>). Streaming and tool calls pass through untouched. The
/// chat calls that RPM itself makes while personalizing are never personalized again, even when they go through this
/// client.
/// </para>
/// </remarks>
public sealed class RpmChatClient : DelegatingChatClient
{
    /// <summary>The <c>ChatOptions.AdditionalProperties</c> key whose string value names the user of a request: <c>rpm.user_id</c>.</summary>
    public const string UserIdKey = "rpm.user_id";

    private readonly Lazy<RpmPipeline> _pipeline;
    private readonly RpmChatClientOptions _options;
    private readonly MemoryCache? _cache;

    /// <summary>Initializes a new instance of the <see cref="RpmChatClient"/> class.</summary>
    /// <param name="innerClient">The client that answers the personalized request.</param>
    /// <param name="pipeline">The RPM pipeline whose store holds the user models and whose stages personalize.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="innerClient"/> or <paramref name="pipeline"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="RpmChatClientOptions.PersonalizationCacheSize"/> is negative.</exception>
    public RpmChatClient(IChatClient innerClient, RpmPipeline pipeline, RpmChatClientOptions? options = null)
        : this(innerClient, new Lazy<RpmPipeline>(pipeline ?? throw new ArgumentNullException(nameof(pipeline))), options)
    {
    }

    internal RpmChatClient(IChatClient innerClient, Lazy<RpmPipeline> pipeline, RpmChatClientOptions? options)
        : base(innerClient)
    {
        _pipeline = pipeline;
        _options = options ?? new RpmChatClientOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(_options.PersonalizationCacheSize, $"{nameof(options)}.{nameof(RpmChatClientOptions.PersonalizationCacheSize)}");
        if (!Enum.IsDefined(_options.Mode))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"{nameof(RpmChatClientOptions.Mode)} {(int)_options.Mode} is not an {nameof(RpmPersonalizationMode)}.");
        }

        _cache = _options.PersonalizationCacheSize > 0 ? new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.PersonalizationCacheSize }) : null;
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

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cache?.Dispose();
        }

        base.Dispose(disposing);
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

        RpmPersonalization? personalization = await GetPersonalizationAsync(userId, message, cancellationToken).ConfigureAwait(false);
        if (personalization is null)
        {
            return options;
        }

        _options.OnPersonalized?.Invoke(personalization);
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

    private async Task<RpmPersonalization?> GetPersonalizationAsync(string userId, string message, CancellationToken cancellationToken)
    {
        // The mark flows into the awaited calls below (RPM's own calls pass through; transports fail fast) and ends when
        // this method returns.
        RpmStageCall.EnterPersonalization();
        RpmPipeline pipeline = _pipeline.Value;
        UserModel? model = await pipeline.GetUserModelAsync(userId, cancellationToken).ConfigureAwait(false);
        if (model is null)
        {
            return null;
        }

        var key = (model.UserId, model.Version, model.UpdatedAt, _options.Mode, message);
        if (_cache is not null && _cache.TryGetValue(key, out RpmPersonalization? cached) && cached is not null)
        {
            return cached;
        }

        RpmPersonalization personalization = await pipeline.PersonalizeAsync(model, message, _options.Mode, cancellationToken).ConfigureAwait(false);
        if (personalization.FallbackReason is null)
        {
            // A degraded personalization (the feature call failed) is used once, never kept.
            _cache?.Set(key, personalization, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(10) });
        }

        return personalization;
    }
}
