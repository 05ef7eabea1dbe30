using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>The default <see cref="IReasoningPathBuilder"/>: one chat call per history item, given the known answer and the user's statistics.</summary>
public sealed class ReasoningPathBuilder : IReasoningPathBuilder
{
    private readonly StructuredChat _chat;
    private readonly TextBudget _budget;

    /// <summary>Initializes a new instance of the <see cref="ReasoningPathBuilder"/> class.</summary>
    /// <param name="chatClient">The chat model.</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="loggerFactory">Where its log events go (repairs, degraded answers); <see langword="null"/> for none.</param>
    /// <param name="meterFactory">Creates the meter <see cref="RpmTelemetry.MeterName"/> of its model-call metrics; <see langword="null"/> for a shared static meter.</param>
    public ReasoningPathBuilder(IChatClient chatClient, RpmOptions options, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _chat = new StructuredChat(chatClient, options, typeof(ReasoningPathBuilder), loggerFactory, meterFactory);
        _budget = new TextBudget(options);
    }

    /// <inheritdoc />
    public async Task<ReasoningPathResult> BuildAsync(ReasoningPathRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidatedChatResponse<string> response = await _chat.GetAsync(new ReasoningPathContract(request, _budget), cancellationToken).ConfigureAwait(false);
        return new ReasoningPathResult(response.Result, response.Usage) { Diagnostics = response.Diagnostics };
    }

    /// <summary>
    /// Writes several reasoning paths in one model call when there is more than one (the batch size is the caller's:
    /// <see cref="RpmPipeline"/> uses <see cref="RpmOptions.ReasoningBatchSize"/>). The user's statistics are sent once.
    /// </summary>
    /// <param name="requests">The items; all for the same task and the same statistics.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>One result per request, in order; the call's cost is on the first result.</returns>
    /// <exception cref="ArgumentException">The requests do not share a task and statistics, or two share an item id.</exception>
    public async Task<IReadOnlyList<ReasoningPathResult>> BuildBatchAsync(IReadOnlyList<ReasoningPathRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0)
        {
            return [];
        }

        if (requests.Count == 1)
        {
            return [await BuildAsync(requests[0], cancellationToken).ConfigureAwait(false)];
        }

        ReasoningPathRequest first = requests[0];
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (ReasoningPathRequest request in requests)
        {
            ArgumentNullException.ThrowIfNull(request, nameof(requests));
            if (request.Task != first.Task || request.Statistics != first.Statistics)
            {
                throw new ArgumentException("A batch must share one task and one set of statistics.", nameof(requests));
            }

            if (!ids.Add(request.Item.Id))
            {
                throw new ArgumentException($"The item id '{request.Item.Id}' appears twice in the batch.", nameof(requests));
            }
        }

        ValidatedChatResponse<IReadOnlyList<string>> response = await _chat.GetAsync(new ReasoningBatchContract(requests, _budget), cancellationToken).ConfigureAwait(false);
        return [.. response.Result.Select((t, i) => new ReasoningPathResult(t, i == 0 ? response.Usage : ModelUsage.None) { Diagnostics = i == 0 ? response.Diagnostics : BuildDiagnostics.None })];
    }
}
