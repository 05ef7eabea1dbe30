using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>The stages' access to <see cref="ValidatedChatClientExtensions.GetValidatedResponseAsync"/>, with the settings of <see cref="RpmOptions"/>.</summary>
internal sealed class StructuredChat
{
    private readonly IChatClient _chatClient;
    private readonly ValidatedOutputOptions _options;

    public StructuredChat(IChatClient chatClient, RpmOptions options)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(options);
        _chatClient = chatClient;
        _options = new ValidatedOutputOptions
        {
            UseJsonSchemaResponseFormat = options.UseJsonSchemaResponseFormat,
            UseStrictJsonSchema = options.UseStrictJsonSchema,
            MaxRepairs = options.MaxOutputRetries,
            ChatOptions = options.ChatOptions,
        };
    }

    public async Task<ValidatedChatResponse<TResult>> GetAsync<T, TResult>(
        RpmStage stage,
        string itemId,
        IReadOnlyList<ChatMessage> messages,
        JsonTypeInfo<T> typeInfo,
        Func<T, OutputValidationContext, OutputValidation<TResult>> validate,
        Action<JsonObject>? refineSchema,
        CancellationToken cancellationToken)
        where T : class
    {
        // Flows into the chat pipeline below, and ends when this method returns: middleware that personalizes chat
        // (UseRpm, the Agent Framework provider) passes RPM's own calls through.
        RpmStageCall.Enter(stage);
        return await _chatClient.GetValidatedResponseAsync(
            messages,
            new ValidatedOutputRequest<T, TResult>(typeInfo, validate) { Stage = stage, ItemId = itemId, RefineSchema = refineSchema },
            _options,
            cancellationToken).ConfigureAwait(false);
    }
}
