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
        RpmStage stage = request.Factors is null ? RpmStage.FeatureExtraction : RpmStage.QueryFeatureExtraction;
        IReadOnlyList<ChatMessage> prompt = RpmPrompts.FeatureExtraction(request, _options, _budget);
        ValidatedChatResponse<IReadOnlyList<Feature>> response = await _chat.GetAsync(
            stage,
            request.ItemId,
            prompt,
            RpmJsonContext.Default.FeatureListOutput,
            (output, _) => Validate(output.Features, request),
            schema => RefineSchema(schema, request, "features", "[]"),
            cancellationToken).ConfigureAwait(false);
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

        RpmStage stage = first.Factors is null ? RpmStage.FeatureExtraction : RpmStage.QueryFeatureExtraction;
        ValidatedChatResponse<IReadOnlyList<IReadOnlyList<Feature>>> response = await _chat.GetAsync(
            stage,
            string.Join(",", requests.Select(r => r.ItemId)),
            RpmPrompts.FeatureExtraction(requests, _options, _budget),
            RpmJsonContext.Default.FeatureBatchOutput,
            (output, _) => ValidateBatch(output, requests),
            schema =>
            {
                RefineSchema(schema, first, "items", "[]", "features", "[]");
                SchemaEdits.SetEnum(schema, [.. requests.Select(r => r.ItemId)], "items", "[]", "itemId");
            },
            cancellationToken).ConfigureAwait(false);
        return [.. response.Result.Select((f, i) => new FeatureExtractionResult(f, i == 0 ? response.Usage : ModelUsage.None) { Diagnostics = i == 0 ? response.Diagnostics : BuildDiagnostics.None })];
    }

    // The answer space of this call: the user's factors (or null) for factor-aware extraction.
    private static void RefineSchema(System.Text.Json.Nodes.JsonObject schema, FeatureExtractionRequest request, params string[] featurePath)
    {
        if (request.Factors is { } factors)
        {
            SchemaEdits.SetEnum(schema, [.. factors.Select(f => f.Factor.Name), null], [.. featurePath, "factor"]);
        }
    }

    private OutputValidation<IReadOnlyList<IReadOnlyList<Feature>>> ValidateBatch(FeatureBatchOutput output, IReadOnlyList<FeatureExtractionRequest> requests)
    {
        var byId = new Dictionary<string, FeatureBatchItemOutput>(StringComparer.Ordinal);
        foreach (FeatureBatchItemOutput item in output.Items ?? [])
        {
            if (item?.ItemId is not null)
            {
                byId.TryAdd(item.ItemId.Trim(), item);
            }
        }

        var missing = requests.Where(r => !byId.ContainsKey(r.ItemId)).Select(r => r.ItemId).ToList();
        if (missing.Count > 0)
        {
            return OutputValidation<IReadOnlyList<IReadOnlyList<Feature>>>.Invalid($"\"items\" must have one entry for every item; missing: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : string.Empty)}.");
        }

        var results = new List<IReadOnlyList<Feature>>(requests.Count);
        BuildDiagnostics diagnostics = BuildDiagnostics.None;
        foreach (FeatureExtractionRequest request in requests)
        {
            OutputValidation<IReadOnlyList<Feature>> one = Validate(byId[request.ItemId].Features, request);
            if (!one.IsValid)
            {
                return OutputValidation<IReadOnlyList<IReadOnlyList<Feature>>>.Invalid($"Item '{request.ItemId}': {one.Error}");
            }

            results.Add(one.Value!);
            diagnostics += one.Diagnostics;
        }

        return OutputValidation<IReadOnlyList<IReadOnlyList<Feature>>>.Valid(results, diagnostics);
    }

    private OutputValidation<IReadOnlyList<Feature>> Validate(List<FeatureOutput>? outputFeatures, FeatureExtractionRequest request)
    {
        if (outputFeatures is null || outputFeatures.Count == 0)
        {
            return OutputValidation<IReadOnlyList<Feature>>.Invalid("\"features\" must list at least one feature.");
        }

        Dictionary<string, string>? factorNames = request.Factors?.ToDictionary(s => s.Factor.Name, s => s.Factor.Name, StringComparer.OrdinalIgnoreCase);
        var features = new List<Feature>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (FeatureOutput item in outputFeatures.Take(_options.MaxFeaturesPerItem))
        {
            if (item is null || string.IsNullOrWhiteSpace(item.Name) || string.IsNullOrWhiteSpace(item.Context))
            {
                return OutputValidation<IReadOnlyList<Feature>>.Invalid("Every feature needs a non-empty \"name\" and \"context\".");
            }

            if (!seen.Add(item.Name.Trim()))
            {
                // The same feature named twice adds nothing to retrieval or statistics.
                continue;
            }

            string? factor = string.IsNullOrWhiteSpace(item.Factor) ? null : item.Factor.Trim();
            if (factorNames is not null && factor is not null)
            {
                // Factor-aware extraction: a name outside the user's factors is kept as unassigned, never given statistics.
                factor = factorNames.GetValueOrDefault(factor);
            }

            features.Add(new Feature(item.Name, item.Context, factor));
        }

        return OutputValidation<IReadOnlyList<Feature>>.Valid(features);
    }
}
