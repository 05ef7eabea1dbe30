using System.Diagnostics.Metrics;
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

    /// <summary>Runs one model call of a stage: its contract's prompt, read and validated by the contract, measured and logged.</summary>
    public async Task<ValidatedChatResponse<TResult>> GetAsync<TReply, TResult>(StageContract<TReply, TResult> contract, CancellationToken cancellationToken)
        where TReply : class
    {
        // Flows into the chat pipeline below, and ends when this method returns: middleware that personalizes chat
        // (UseRpm, the Agent Framework provider) passes RPM's own calls through.
        RpmStageCall.Enter(contract.Stage);
        ValidatedChatResponse<TResult> response = await _chatClient.ReadValidatedAsync(contract.WritePrompt(), contract, _options, cancellationToken).ConfigureAwait(false);
        _telemetry.Accepted(contract.Stage, contract.ItemId, response);
        return response;
    }
}
