using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>The default <see cref="IReasoningPathBuilder"/>: one chat call per history item, given the known answer and the user's statistics.</summary>
public sealed class ReasoningPathBuilder : IReasoningPathBuilder
{
    private readonly StructuredChat _chat;
    private readonly TextBudget _budget;

    /// <summary>Initializes a new instance of the <see cref="ReasoningPathBuilder"/> class.</summary>
    /// <param name="chatClient">The chat model.</param>
    /// <param name="options">The options; validated here.</param>
    public ReasoningPathBuilder(IChatClient chatClient, RpmOptions options)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _chat = new StructuredChat(chatClient, options);
        _budget = new TextBudget(options);
    }

    /// <inheritdoc />
    public async Task<ReasoningPathResult> BuildAsync(ReasoningPathRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (reasoning, usage) = await _chat.GetAsync(
            RpmStage.ReasoningPath,
            request.Item.Id,
            RpmPrompts.ReasoningPath(request, _budget),
            RpmJsonContext.Default.ReasoningOutput,
            output => string.IsNullOrWhiteSpace(output.Reasoning)
                ? Validated<string>.Fail("\"reasoning\" must not be empty.")
                : Validated<string>.Ok(output.Reasoning.Trim()),
            cancellationToken).ConfigureAwait(false);
        return new ReasoningPathResult(reasoning, usage);
    }
}
