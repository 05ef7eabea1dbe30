using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// The one place where Rpm.Core asks a chat model for structured output: a JSON schema in
/// <see cref="ChatOptions.ResponseFormat"/>, a tolerant parse of the answer, validation, and a retry that tells
/// the model what was wrong. Every stage goes through here.
/// </summary>
internal sealed class StructuredChat
{
    private readonly IChatClient _chatClient;
    private readonly RpmOptions _options;

    public StructuredChat(IChatClient chatClient, RpmOptions options)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(options);
        _chatClient = chatClient;
        _options = options;
    }

    /// <summary>Asks for a <typeparamref name="T"/>, validates it and retries once (by default) with the error.</summary>
    /// <typeparam name="T">The output shape.</typeparam>
    /// <typeparam name="TResult">What validation turns the output into.</typeparam>
    /// <param name="stage">The stage, for errors.</param>
    /// <param name="itemId">The item, for errors.</param>
    /// <param name="messages">The prompt.</param>
    /// <param name="typeInfo">The output's JSON metadata.</param>
    /// <param name="validate">Turns the output into a result, or returns an error phrased for the model.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The validated result and the usage of every call made.</returns>
    public async Task<(TResult Result, ModelUsage Usage)> GetAsync<T, TResult>(
        RpmStage stage,
        string itemId,
        IReadOnlyList<ChatMessage> messages,
        JsonTypeInfo<T> typeInfo,
        Func<T, Validated<TResult>> validate,
        CancellationToken cancellationToken)
        where T : class
    {
        var conversation = new List<ChatMessage>(messages);
        ChatResponseFormatJson format = Schemas.For(typeInfo);
        if (!_options.UseJsonSchemaResponseFormat)
        {
            conversation.Add(new ChatMessage(ChatRole.User, $"Respond with a JSON value conforming to the following schema:\n{format.Schema}"));
        }

        ModelUsage usage = ModelUsage.None;
        int attempts = 1 + _options.MaxOutputRetries;
        string raw = string.Empty;
        string error = string.Empty;
        for (int attempt = 1; attempt <= attempts; attempt++)
        {
            ChatOptions chatOptions = _options.ChatOptions?.Clone() ?? new ChatOptions();
            chatOptions.ResponseFormat = _options.UseJsonSchemaResponseFormat ? format : ChatResponseFormat.Json;

            ChatResponse response;
            try
            {
                response = await _chatClient.GetResponseAsync(conversation, chatOptions, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                throw new RpmStageException(stage, itemId, $"The chat model call for stage {stage} of item '{itemId}' failed: {ex.Message}", ex);
            }

            usage += ModelUsage.FromCall(response.Usage);
            raw = response.Messages.Count > 0 ? response.Messages[^1].Text : response.Text;
            if (TryParse(raw, typeInfo, out T? output, out error))
            {
                Validated<TResult> validated;
                try
                {
                    validated = validate(output);
                }
                catch (ArgumentException ex)
                {
                    // Constructors of the public types reject blank names and the like.
                    validated = Validated<TResult>.Fail(ex.Message);
                }

                if (validated.IsValid)
                {
                    return (validated.Value!, usage);
                }

                error = validated.Error!;
            }

            if (attempt < attempts)
            {
                conversation.Add(new ChatMessage(ChatRole.Assistant, raw));
                conversation.Add(new ChatMessage(ChatRole.User, $"That answer was not valid: {error} Reply again with only the corrected JSON object."));
            }
        }

        throw new RpmModelOutputException(stage, itemId, raw, error, attempts);
    }

    /// <summary>Reads the JSON object in a model answer, tolerating code fences and text around it.</summary>
    internal static bool TryParse<T>(string? raw, JsonTypeInfo<T> typeInfo, [NotNullWhen(true)] out T? output, out string error)
        where T : class
    {
        output = null;
        if (string.IsNullOrWhiteSpace(raw))
        {
            error = "The answer was empty; a JSON object was expected.";
            return false;
        }

        int start = raw.IndexOf('{', StringComparison.Ordinal);
        int end = raw.LastIndexOf('}');
        if (start < 0 || end < start)
        {
            error = "The answer contained no JSON object.";
            return false;
        }

        try
        {
            output = JsonSerializer.Deserialize(raw.AsSpan(start, end - start + 1), typeInfo);
        }
        catch (JsonException ex)
        {
            error = $"The answer was not valid JSON for the schema: {ex.Message}";
            return false;
        }

        if (output is null)
        {
            error = "The answer was JSON null; a JSON object was expected.";
            return false;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>Caches the JSON schema of each output type.</summary>
    private static class Schemas
    {
        private static readonly Dictionary<Type, ChatResponseFormatJson> Cache = [];
        private static readonly Lock Gate = new();

        public static ChatResponseFormatJson For<T>(JsonTypeInfo<T> typeInfo)
        {
            lock (Gate)
            {
                if (!Cache.TryGetValue(typeof(T), out ChatResponseFormatJson? format))
                {
                    JsonElement schema = AIJsonUtilities.CreateJsonSchema(typeof(T), serializerOptions: typeInfo.Options);
                    string name = "rpm_" + typeof(T).Name.Replace("Output", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
                    format = ChatResponseFormat.ForJsonSchema(schema, name, null);
                    Cache[typeof(T)] = format;
                }

                return format;
            }
        }
    }
}

/// <summary>The result of validating a model output: a value, or an error phrased for the model.</summary>
/// <typeparam name="T">The value type.</typeparam>
internal readonly struct Validated<T>
{
    private Validated(T? value, string? error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }

    public string? Error { get; }

    public bool IsValid => Error is null;

    public static Validated<T> Ok(T value) => new(value, null);

    public static Validated<T> Fail(string error) => new(default, error);
}
