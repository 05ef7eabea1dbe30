using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>
/// The default <see cref="IFactorConstructor"/>: one model call over the user's distinct features (as the paper does,
/// not k-means), read leniently and completed by rules (<see cref="FactorRules"/>), so that no model judgment aborts a
/// build that was already paid for.
/// </summary>
/// <remarks>
/// The prompt lists at most <see cref="RpmOptions.MaxFactorConstructionFeatures"/> distinct features, the most frequent
/// first, and asks for no more factors than it lists. Names that are not features are ignored or matched to the feature
/// they renamed; features left out are assigned by rule. When the answer is unusable even after the repair turn (or
/// refused), the factors are formed by rule from the categories suggested in stage 1. <see cref="BuildDiagnostics"/>
/// counts each such step.
/// </remarks>
public sealed class FactorConstructor : IFactorConstructor
{
    private readonly StructuredChat _chat;
    private readonly RpmOptions _options;

    /// <summary>Initializes a new instance of the <see cref="FactorConstructor"/> class.</summary>
    /// <param name="chatClient">The chat model.</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="loggerFactory">Where its log events go (repairs, degraded answers); <see langword="null"/> for none.</param>
    /// <param name="meterFactory">Creates the meter <see cref="RpmTelemetry.MeterName"/> of its model-call metrics; <see langword="null"/> for a shared static meter.</param>
    public FactorConstructor(IChatClient chatClient, RpmOptions options, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _chat = new StructuredChat(chatClient, options, typeof(FactorConstructor), loggerFactory, meterFactory);
    }

    /// <inheritdoc />
    public async Task<FactorConstruction> ConstructFactorsAsync(string userId, RpmTask task, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(items);
        IReadOnlyList<DistinctFeature> distinct = DistinctFeature.Collect(items);
        if (distinct.Count == 0)
        {
            throw new ArgumentException($"The history of '{userId}' has no features to group into factors.", nameof(items));
        }

        List<DistinctFeature> shown = [.. distinct.Take(_options.MaxFactorConstructionFeatures)];
        int maxFactors = Math.Min(_options.MaxFactors, shown.Count);
        int minFactors = Math.Min(_options.MinFactors, maxFactors);
        FactorAnswer? answer;
        ModelUsage usage;
        var diagnostics = new BuildDiagnostics { FeaturesNotShownToFactorConstruction = distinct.Count - shown.Count };
        try
        {
            ValidatedChatResponse<FactorAnswer> response = await _chat.GetAsync(
                new FactorConstructionContract(userId, task, shown, minFactors, maxFactors), cancellationToken).ConfigureAwait(false);
            answer = response.Result;
            usage = response.Usage;
            diagnostics += response.Diagnostics;
        }
        catch (RpmModelOutputException ex)
        {
            // No model judgment aborts a paid build: form the factors by rule instead.
            answer = FactorRules.FromSuggestions(distinct, maxFactors);
            if (answer is null)
            {
                throw;
            }

            usage = ex.Usage;
            diagnostics += new BuildDiagnostics
            {
                FactorsFromSuggestedCategories = true,
                FactorFallbackReason = ex.Failure == ModelOutputFailure.Refused ? $"the model refused: {ex.Error}" : ex.Error,
            };
        }

        var (assignment, rules) = FactorRules.Complete(distinct, items, answer);
        diagnostics += rules;
        var assigned = new List<ItemFeatures>(items.Count);
        foreach (ItemFeatures item in items)
        {
            assigned.Add(new ItemFeatures(item.Item, [.. item.Features.Select(f => f.WithFactor(assignment.GetValueOrDefault(f.Name)))]));
        }

        return new FactorConstruction(answer.Factors, assigned, usage) { Diagnostics = diagnostics };
    }
}
