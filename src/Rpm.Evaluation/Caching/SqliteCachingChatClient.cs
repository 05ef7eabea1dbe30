using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rpm.Evaluation;

/// <summary>
/// A <see cref="CachingChatClient"/> layer that keeps every answer in a <see cref="SqliteResponseStore"/>, keyed by a
/// method scope, the model and the prompt (every message, the response format and the sampling options). The key is
/// computed here from stable fields, so a cache survives package updates. A response served from the cache carries
/// <see cref="CachedProperty"/> in its additional properties, so outer layers can tell what was paid for now.
/// </summary>
internal sealed class SqliteCachingChatClient : CachingChatClient
{
    /// <summary>The additional property set to <see langword="true"/> on a response read from the cache.</summary>
    public const string CachedProperty = "rpm.cached";

    /// <summary>The additional property set to <see langword="true"/> on a response read from the cache that this run itself wrote (reuse within the run, not a saving from an earlier one).</summary>
    public const string ReusedProperty = "rpm.reused";

    private const string KeyVersion = "rpm-eval-cache-v1";
    private readonly SqliteResponseStore _store;

    /// <summary>Initializes a new instance of the <see cref="SqliteCachingChatClient"/> class.</summary>
    /// <param name="innerClient">The client that answers cache misses.</param>
    /// <param name="store">The cache file.</param>
    /// <param name="scope">The method scope that is part of every key (e.g. <c>rag-bm25</c>).</param>
    /// <param name="modelId">The model that is part of every key.</param>
    public SqliteCachingChatClient(IChatClient innerClient, SqliteResponseStore store, string scope, string modelId)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        ArgumentNullException.ThrowIfNull(modelId);
        _store = store;
        Scope = scope;
        ModelId = modelId;
    }

    /// <summary>Gets the method scope.</summary>
    public string Scope { get; }

    /// <summary>Gets the model.</summary>
    public string ModelId { get; }

    /// <summary>Computes the key of a request: a SHA-256 of the scope, the model and the prompt.</summary>
    /// <param name="scope">The method scope.</param>
    /// <param name="modelId">The model.</param>
    /// <param name="messages">The messages.</param>
    /// <param name="options">The options.</param>
    /// <returns>The key, as hex.</returns>
    public static string ComputeKey(string scope, string modelId, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("v", KeyVersion);
            writer.WriteString("scope", scope);
            writer.WriteString("model", options?.ModelId ?? modelId);
            writer.WriteStartArray("messages");
            foreach (ChatMessage message in messages)
            {
                writer.WriteStartObject();
                writer.WriteString("role", message.Role.Value);
                writer.WriteString("text", message.Text);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            if (options is not null)
            {
                switch (options.ResponseFormat)
                {
                    case ChatResponseFormatJson json:
                        writer.WriteString("format", json.SchemaName ?? "json");
                        writer.WriteString("schema", json.Schema?.GetRawText() ?? string.Empty);
                        break;
                    case ChatResponseFormatText:
                        writer.WriteString("format", "text");
                        break;
                }

                WriteNumber(writer, "temperature", options.Temperature);
                WriteNumber(writer, "topP", options.TopP);
                WriteNumber(writer, "maxOutputTokens", options.MaxOutputTokens);
                WriteNumber(writer, "seed", options.Seed);
                if (options.Instructions is not null)
                {
                    writer.WriteString("instructions", options.Instructions);
                }
            }

            writer.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
    }

    /// <inheritdoc />
    protected override string GetCacheKey(IEnumerable<ChatMessage> messages, ChatOptions? options, params ReadOnlySpan<object?> additionalValues) =>
        ComputeKey(Scope, ModelId, messages, options);

    /// <inheritdoc />
    protected override async Task<ChatResponse?> ReadCacheAsync(string key, CancellationToken cancellationToken)
    {
        if (await _store.ReadAsync(key, cancellationToken).ConfigureAwait(false) is not (string json, bool reused))
        {
            return null;
        }

        ChatResponse? response;
        try
        {
            response = (ChatResponse?)JsonSerializer.Deserialize(json, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ChatResponse)));
        }
        catch (JsonException)
        {
            // A damaged entry is a miss: the call is made again and the entry replaced.
            return null;
        }

        if (response is not null)
        {
            (response.AdditionalProperties ??= [])[CachedProperty] = true;
            if (reused)
            {
                response.AdditionalProperties[ReusedProperty] = true;
            }

            // A validated read above may still reject this entry (written by an older version) and repair it: the
            // repaired answer then replaces it.
            ResponseAcceptance.TryDefer(response, fromCache: true, (accepted, ct) => WriteAsync(key, accepted, ct));
        }

        return response;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Under a validated read (<see cref="ValidatedChatClientExtensions.GetValidatedResponseAsync"/>) the write waits until
    /// the answer is accepted, so an invalid, cut-off, refused or filtered answer is never kept and a re-run asks again.
    /// Otherwise only a complete answer is written (<see cref="ResponseAcceptance.IsComplete"/>). Either way the write
    /// ignores cancellation: an answer that arrived was paid for.
    /// </remarks>
    protected override Task WriteCacheAsync(string key, ChatResponse value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (ResponseAcceptance.TryDefer(value, fromCache: false, (accepted, ct) => WriteAsync(key, accepted, ct)))
        {
            return Task.CompletedTask;
        }

        return ResponseAcceptance.IsComplete(value) ? WriteAsync(key, value, CancellationToken.None) : Task.CompletedTask;
    }

    private Task WriteAsync(string key, ChatResponse value, CancellationToken cancellationToken)
    {
        ChatResponse copy = value;
        if (value.AdditionalProperties?.ContainsKey(CachedProperty) == true || value.AdditionalProperties?.ContainsKey(ReusedProperty) == true)
        {
            // Never store the "served from the cache" mark itself.
            copy = new ChatResponse(value.Messages)
            {
                ResponseId = value.ResponseId,
                ConversationId = value.ConversationId,
                ModelId = value.ModelId,
                CreatedAt = value.CreatedAt,
                FinishReason = value.FinishReason,
                Usage = value.Usage,
                AdditionalProperties = new AdditionalPropertiesDictionary(value.AdditionalProperties!.Where(p => p.Key is not CachedProperty and not ReusedProperty)),
            };
        }

        string json = JsonSerializer.Serialize(copy, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ChatResponse)));
        return _store.SetAsync(key, Scope, ModelId, json, cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<ChatResponseUpdate>?> ReadCacheStreamingAsync(string key, CancellationToken cancellationToken)
    {
        string? json = await _store.GetAsync("stream:" + key, cancellationToken).ConfigureAwait(false);
        return json is null ? null : (IReadOnlyList<ChatResponseUpdate>?)JsonSerializer.Deserialize(json, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IReadOnlyList<ChatResponseUpdate>)));
    }

    /// <inheritdoc />
    protected override Task WriteCacheStreamingAsync(string key, IReadOnlyList<ChatResponseUpdate> value, CancellationToken cancellationToken)
    {
        string json = JsonSerializer.Serialize(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IReadOnlyList<ChatResponseUpdate>)));
        return _store.SetAsync("stream:" + key, Scope, ModelId, json, cancellationToken);
    }

    private static void WriteNumber(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is double v)
        {
            writer.WriteNumber(name, v);
        }
    }

    private static void WriteNumber(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is long v)
        {
            writer.WriteNumber(name, v);
        }
    }
}
