using System.Globalization;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// The default <see cref="IStatisticsBuilder"/>: factor construction by prompting the model over all of a user's
/// features (as the paper does, not k-means), and statistics counted locally.
/// </summary>
public sealed class StatisticsBuilder : IStatisticsBuilder
{
    private const int ContextsPerFeature = 2;
    private const int SuggestionsPerFeature = 3;
    private readonly StructuredChat _chat;
    private readonly RpmOptions _options;

    /// <summary>Initializes a new instance of the <see cref="StatisticsBuilder"/> class.</summary>
    /// <param name="chatClient">The chat model.</param>
    /// <param name="options">The options; validated here.</param>
    public StatisticsBuilder(IChatClient chatClient, RpmOptions options)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _chat = new StructuredChat(chatClient, options);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The prompt lists at most <see cref="RpmOptions.MaxFactorConstructionFeatures"/> distinct features, the most frequent
    /// first, and asks for no more factors than it lists. The answer is read leniently and completed by rules
    /// (<see cref="BuildDiagnostics"/> counts each): names that are not features are ignored or matched to the feature
    /// they renamed; features left out are assigned by rule. When the answer is unusable even after the repair turn (or
    /// refused), the factors are formed by rule from the categories suggested in stage 1, so that a paid build completes.
    /// </remarks>
    public async Task<FactorConstruction> ConstructFactorsAsync(string userId, RpmTask task, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(items);
        IReadOnlyList<DistinctFeature> distinct = Distinct(items);
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
                RpmStage.FactorConstruction,
                userId,
                RpmPrompts.FactorConstruction(task, shown, minFactors, maxFactors),
                RpmJsonContext.Default.FactorListOutput,
                (output, context) => FactorRules.Read(output, shown, maxFactors, context),
                schema => SchemaEdits.SetEnum(schema, [.. shown.Select(f => f.Name)], "factors", "[]", "features", "[]"),
                cancellationToken).ConfigureAwait(false);
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

    /// <inheritdoc />
    public Task<IReadOnlyList<FactorStatistics>> ComputeStatisticsAsync(RpmTask task, IReadOnlyList<Factor> factors, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(factors);
        ArgumentNullException.ThrowIfNull(items);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Compute(task, factors, items));
    }

    /// <summary>The counting of stage 3, exposed for callers that recompute statistics without a chat client.</summary>
    internal static IReadOnlyList<FactorStatistics> Compute(RpmTask task, IReadOnlyList<Factor> factors, IReadOnlyList<ItemFeatures> items)
    {
        var answers = new string[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            HistoryItem item = items[i].Item;
            if (!task.TryNormalizeAnswer(item.Output, item.Options, out answers[i], out string? error))
            {
                throw new ArgumentException($"The output of history item '{item.Id}' is not valid for task '{task.Name}': {error}", nameof(items));
            }
        }

        IReadOnlyList<string> labels = task.Kind == RpmTaskKind.MultipleChoice
            ? [.. answers.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]
            : task.StatisticLabels;

        var result = new List<FactorStatistics>(factors.Count);
        foreach (Factor factor in factors)
        {
            int coverage = 0;
            var counts = labels.ToDictionary(l => l, _ => 0, StringComparer.Ordinal);
            double ratingSum = 0;
            int influence = 0, positive = 0, neutral = 0, negative = 0;
            for (int i = 0; i < items.Count; i++)
            {
                bool touches = false;
                foreach (Feature feature in items[i].Features)
                {
                    if (!string.Equals(feature.Factor, factor.Name, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    touches = true;
                    if (feature.Influential == true)
                    {
                        // A polarity the model never gave is unknown: counted in influence, in no polarity share.
                        influence++;
                        switch (feature.Polarity)
                        {
                            case FeaturePolarity.Positive: positive++; break;
                            case FeaturePolarity.Negative: negative++; break;
                            case FeaturePolarity.Neutral: neutral++; break;
                        }
                    }
                }

                if (!touches)
                {
                    continue;
                }

                coverage++;
                if (counts.TryGetValue(answers[i], out int count))
                {
                    counts[answers[i]] = count + 1;
                }

                if (task.Kind == RpmTaskKind.Rating)
                {
                    ratingSum += double.Parse(answers[i], NumberStyles.Float, CultureInfo.InvariantCulture);
                }
            }

            if (task.Kind == RpmTaskKind.Generation)
            {
                result.Add(new FactorStatistics(
                    factor,
                    coverage,
                    influence: influence,
                    positiveShare: Share(positive, positive + neutral + negative),
                    neutralShare: Share(neutral, positive + neutral + negative),
                    negativeShare: Share(negative, positive + neutral + negative)));
            }
            else
            {
                var propensity = counts.ToDictionary(c => c.Key, c => Share(c.Value, coverage), StringComparer.Ordinal);
                result.Add(new FactorStatistics(
                    factor,
                    coverage,
                    labelCounts: counts,
                    propensity: propensity,
                    meanRating: task.Kind == RpmTaskKind.Rating && coverage > 0 ? ratingSum / coverage : null));
            }
        }

        return result;
    }

    private static double Share(int part, int whole) => whole == 0 ? 0 : (double)part / whole;

    private static IReadOnlyList<DistinctFeature> Distinct(IReadOnlyList<ItemFeatures> items)
    {
        var order = new List<string>();
        var byName = new Dictionary<string, (string Name, HashSet<string> Items, List<string> Contexts, List<string> Suggestions)>(StringComparer.OrdinalIgnoreCase);
        foreach (ItemFeatures item in items)
        {
            ArgumentNullException.ThrowIfNull(item, nameof(items));
            foreach (Feature feature in item.Features)
            {
                if (!byName.TryGetValue(feature.Name, out var entry))
                {
                    entry = (feature.Name, new HashSet<string>(StringComparer.Ordinal), [], []);
                    byName[feature.Name] = entry;
                    order.Add(feature.Name);
                }

                entry.Items.Add(item.Item.Id);
                if (entry.Contexts.Count < ContextsPerFeature && !entry.Contexts.Contains(feature.Context, StringComparer.OrdinalIgnoreCase))
                {
                    entry.Contexts.Add(feature.Context);
                }

                if (feature.Factor is not null && entry.Suggestions.Count < SuggestionsPerFeature && !entry.Suggestions.Contains(feature.Factor, StringComparer.OrdinalIgnoreCase))
                {
                    entry.Suggestions.Add(feature.Factor);
                }
            }
        }

        // Most frequent first, so that a long list keeps what matters most in view.
        return [.. order.Select(n => byName[n])
            .OrderByDescending(e => e.Items.Count)
            .Select(e => new DistinctFeature(e.Name, e.Items.Count, e.Contexts, e.Suggestions))];
    }
}
