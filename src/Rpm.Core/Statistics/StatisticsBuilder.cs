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

        var names = new HashSet<string>(distinct.Select(d => d.Name), StringComparer.OrdinalIgnoreCase);
        var (result, usage) = await _chat.GetAsync(
            RpmStage.FactorConstruction,
            userId,
            RpmPrompts.FactorConstruction(task, distinct, _options),
            RpmJsonContext.Default.FactorListOutput,
            output => Validate(output, names),
            cancellationToken).ConfigureAwait(false);

        var (factors, assignment) = result;
        var byName = factors.ToDictionary(f => f.Name, f => f.Name, StringComparer.OrdinalIgnoreCase);
        var assigned = new List<ItemFeatures>(items.Count);
        foreach (ItemFeatures item in items)
        {
            var features = new List<Feature>(item.Features.Count);
            foreach (Feature feature in item.Features)
            {
                // A feature the model left out keeps its suggested category when that became a factor; otherwise it is unassigned.
                string? factor = assignment.GetValueOrDefault(feature.Name)
                    ?? (feature.Factor is not null ? byName.GetValueOrDefault(feature.Factor) : null);
                features.Add(feature.WithFactor(factor));
            }

            assigned.Add(new ItemFeatures(item.Item, features));
        }

        return new FactorConstruction(factors, assigned, usage);
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
                        influence++;
                        switch (feature.Polarity)
                        {
                            case FeaturePolarity.Positive: positive++; break;
                            case FeaturePolarity.Negative: negative++; break;
                            default: neutral++; break;
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
                    positiveShare: Share(positive, influence),
                    neutralShare: Share(neutral, influence),
                    negativeShare: Share(negative, influence)));
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

    private Validated<(List<Factor> Factors, Dictionary<string, string> Assignment)> Validate(FactorListOutput output, HashSet<string> featureNames)
    {
        if (output.Factors is null || output.Factors.Count == 0)
        {
            return Fail("\"factors\" must list at least one factor.");
        }

        if (output.Factors.Count > _options.MaxFactors)
        {
            return Fail($"Return at most {_options.MaxFactors} factors; {output.Factors.Count} were returned.");
        }

        var factors = new List<Factor>();
        var factorNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var assignment = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var unknown = new List<string>();
        foreach (FactorOutput item in output.Factors)
        {
            if (item is null || string.IsNullOrWhiteSpace(item.Name))
            {
                return Fail("Every factor needs a non-empty \"name\".");
            }

            var factor = new Factor(item.Name, item.Description);
            if (!factorNames.Add(factor.Name))
            {
                return Fail($"The factor name '{factor.Name}' is used twice; factor names must be distinct.");
            }

            if (string.Equals(factor.Name, RpmPrompts.Unassigned, StringComparison.OrdinalIgnoreCase))
            {
                return Fail($"'{RpmPrompts.Unassigned}' is reserved; give the factor a descriptive name.");
            }

            factors.Add(factor);
            foreach (string name in item.Features ?? [])
            {
                string trimmed = name?.Trim() ?? string.Empty;
                if (!featureNames.Contains(trimmed))
                {
                    unknown.Add(trimmed);
                    continue;
                }

                assignment.TryAdd(trimmed, factor.Name);
            }
        }

        if (unknown.Count > 0)
        {
            return Fail($"These names are not features from the data: {string.Join(", ", unknown.Take(5).Select(u => $"'{u}'"))}. Use the exact feature names.");
        }

        return Validated<(List<Factor>, Dictionary<string, string>)>.Ok((factors, assignment));

        static Validated<(List<Factor>, Dictionary<string, string>)> Fail(string error) => Validated<(List<Factor>, Dictionary<string, string>)>.Fail(error);
    }
}
