using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>The default <see cref="IFeatureExtractor"/>: one chat call per input, structured output, validated.</summary>
public sealed class FeatureExtractor : IFeatureExtractor
{
    private readonly StructuredChat _chat;
    private readonly RpmOptions _options;
    private readonly TextBudget _budget;

    /// <summary>Initializes a new instance of the <see cref="FeatureExtractor"/> class.</summary>
    /// <param name="chatClient">The chat model.</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="loggerFactory">Where its log events go (repairs, degraded answers); <see langword="null"/> for none.</param>
    /// <param name="meterFactory">Creates the meter <see cref="RpmTelemetry.MeterName"/> of its model-call metrics; <see langword="null"/> for a shared static meter.</param>
    public FeatureExtractor(IChatClient chatClient, RpmOptions options, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _chat = new StructuredChat(chatClient, options, typeof(FeatureExtractor), loggerFactory, meterFactory);
        _budget = new TextBudget(options);
    }

    /// <inheritdoc />
    public async Task<FeatureExtractionResult> ExtractAsync(FeatureExtractionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidatedChatResponse<IReadOnlyList<Feature>> response = await _chat.GetAsync(
            new FeatureExtractionContract(request, _options, _budget), cancellationToken).ConfigureAwait(false);
        return new FeatureExtractionResult(response.Result, response.Usage) { Diagnostics = response.Diagnostics };
    }

    /// <summary>
    /// Extracts several inputs in one model call when there is more than one (the batch size is the caller's:
    /// <see cref="RpmPipeline"/> uses <see cref="RpmOptions.FeatureExtractionBatchSize"/>).
    /// </summary>
    /// <param name="requests">The inputs; all for the same task and the same factors (or none).</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>One result per request, in order; the call's cost and diagnostics are on the first result.</returns>
    /// <exception cref="ArgumentException">The requests do not share a task and factors, or two share an item id.</exception>
    public async Task<IReadOnlyList<FeatureExtractionResult>> ExtractBatchAsync(IReadOnlyList<FeatureExtractionRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0)
        {
            return [];
        }

        if (requests.Count == 1)
        {
            return [await ExtractAsync(requests[0], cancellationToken).ConfigureAwait(false)];
        }

        FeatureExtractionRequest first = requests[0];
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (FeatureExtractionRequest request in requests)
        {
            ArgumentNullException.ThrowIfNull(request, nameof(requests));
            if (request.Task != first.Task || request.Factors != first.Factors)
            {
                throw new ArgumentException("A batch must share one task and one set of factors (or none).", nameof(requests));
            }

            if (!ids.Add(request.ItemId))
            {
                throw new ArgumentException($"The item id '{request.ItemId}' appears twice in the batch.", nameof(requests));
            }
        }

        ValidatedChatResponse<IReadOnlyList<IReadOnlyList<Feature>>> response = await _chat.GetAsync(
            new FeatureBatchContract(requests, _options, _budget), cancellationToken).ConfigureAwait(false);
        return [.. response.Result.Select((f, i) => new FeatureExtractionResult(f, i == 0 ? response.Usage : ModelUsage.None) { Diagnostics = i == 0 ? response.Diagnostics : BuildDiagnostics.None })];
    }
}
