using Microsoft.Extensions.AI;

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
    public FeatureExtractor(IChatClient chatClient, RpmOptions options)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _chat = new StructuredChat(chatClient, options);
        _budget = new TextBudget(options);
    }

    /// <inheritdoc />
    public async Task<FeatureExtractionResult> ExtractAsync(FeatureExtractionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RpmStage stage = request.Factors is null ? RpmStage.FeatureExtraction : RpmStage.QueryFeatureExtraction;
        IReadOnlyList<ChatMessage> prompt = RpmPrompts.FeatureExtraction(request, _options, _budget);
        var (features, usage) = await _chat.GetAsync(
            stage,
            request.ItemId,
            prompt,
            RpmJsonContext.Default.FeatureListOutput,
            output => Validate(output, request),
            cancellationToken).ConfigureAwait(false);
        return new FeatureExtractionResult(features, usage);
    }

    private Validated<IReadOnlyList<Feature>> Validate(FeatureListOutput output, FeatureExtractionRequest request)
    {
        if (output.Features is null || output.Features.Count == 0)
        {
            return Validated<IReadOnlyList<Feature>>.Fail("\"features\" must list at least one feature.");
        }

        Dictionary<string, string>? factorNames = request.Factors?.ToDictionary(s => s.Factor.Name, s => s.Factor.Name, StringComparer.OrdinalIgnoreCase);
        bool judgeInfluence = request.Task.Kind == RpmTaskKind.Generation && request.KnownOutput is not null;
        var features = new List<Feature>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (FeatureOutput item in output.Features.Take(_options.MaxFeaturesPerItem))
        {
            if (item is null || string.IsNullOrWhiteSpace(item.Name) || string.IsNullOrWhiteSpace(item.Context))
            {
                return Validated<IReadOnlyList<Feature>>.Fail("Every feature needs a non-empty \"name\" and \"context\".");
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

            bool? influential = null;
            FeaturePolarity? polarity = null;
            if (judgeInfluence)
            {
                influential = item.Influential ?? false;
                if (influential == true)
                {
                    if (!Enum.TryParse(item.Polarity, ignoreCase: true, out FeaturePolarity parsed))
                    {
                        return Validated<IReadOnlyList<Feature>>.Fail($"The influential feature '{item.Name}' needs \"polarity\": \"positive\", \"neutral\" or \"negative\".");
                    }

                    polarity = parsed;
                }
            }

            features.Add(new Feature(item.Name, item.Context, factor, influential, polarity));
        }

        return Validated<IReadOnlyList<Feature>>.Ok(features);
    }
}
