namespace Rpm;

/// <summary>A feature name as seen across a user's history, for factor construction.</summary>
/// <param name="Name">The feature's name.</param>
/// <param name="Count">How many history items it appears in.</param>
/// <param name="Contexts">Up to two example contexts.</param>
/// <param name="SuggestedFactors">Up to three categories stage 1 suggested for it.</param>
internal sealed record DistinctFeature(string Name, int Count, IReadOnlyList<string> Contexts, IReadOnlyList<string> SuggestedFactors)
{
    private const int ContextsPerFeature = 2;
    private const int SuggestionsPerFeature = 3;

    /// <summary>Collects the distinct features of a history, the most frequent first (ties in order of appearance).</summary>
    public static IReadOnlyList<DistinctFeature> Collect(IReadOnlyList<ItemFeatures> items)
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

        // Most frequent first, so that a bounded list keeps what matters most in view.
        return [.. order.Select(n => byName[n])
            .OrderByDescending(e => e.Items.Count)
            .Select(e => new DistinctFeature(e.Name, e.Items.Count, e.Contexts, e.Suggestions))];
    }
}
