using System.Globalization;

namespace Rpm;

/// <summary>
/// The default <see cref="IStatisticsBuilder"/>: the statistics of each factor (stage 3 of RPM), counted locally over the
/// user's history, with no model call: coverage, the propensity of every label (zeros included) and the mean rating, or
/// for generation tasks influence and polarity shares.
/// </summary>
public sealed class StatisticsBuilder : IStatisticsBuilder
{
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
}
