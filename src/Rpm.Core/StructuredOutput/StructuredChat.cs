using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>
/// The stages' access to <see cref="ValidatedChatClientExtensions.GetValidatedResponseAsync"/>, with the settings of
/// <see cref="RpmOptions"/>, and the one place their model calls are measured and logged (<see cref="ModelCallTelemetry"/>).
/// </summary>
internal sealed class StructuredChat
{
    private readonly IChatClient _chatClient;
    private readonly ValidatedOutputOptions _options;
    private readonly ModelCallTelemetry _telemetry;

    /// <summary>Initializes a new instance of the <see cref="StructuredChat"/> class.</summary>
    /// <param name="chatClient">The chat model.</param>
    /// <param name="options">The options.</param>
    /// <param name="category">The stage whose log category its events go to.</param>
    /// <param name="loggerFactory">The logger factory, or null.</param>
    /// <param name="meterFactory">The meter factory, or null for the shared meter.</param>
    public StructuredChat(IChatClient chatClient, RpmOptions options, Type category, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(options);
        _chatClient = chatClient;
        _telemetry = new ModelCallTelemetry(chatClient, options, category, loggerFactory, meterFactory);
        _options = new ValidatedOutputOptions
        {
            UseJsonSchemaResponseFormat = options.UseJsonSchemaResponseFormat,
            UseStrictJsonSchema = options.UseStrictJsonSchema,
            MaxRepairs = options.MaxOutputRetries,
            ChatOptions = options.ChatOptions,
            Observer = _telemetry,
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
        ValidatedChatResponse<TResult> response = await _chatClient.GetValidatedResponseAsync(
            messages,
            new ValidatedOutputRequest<T, TResult>(typeInfo, validate) { Stage = stage, ItemId = itemId, RefineSchema = refineSchema },
            _options,
            cancellationToken).ConfigureAwait(false);
        _telemetry.Accepted(stage, itemId, response);
        return response;
    }
}
