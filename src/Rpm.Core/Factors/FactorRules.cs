namespace Rpm;

/// <summary>
/// Reads a factor answer leniently and completes it by deterministic rules, so that no model judgment aborts a build
/// that was already paid for: names that are not features of the data are ignored (or matched to the feature they
/// renamed), duplicate factors are merged, factors beyond the maximum dropped, and every feature the answer left out is
/// assigned by rule. When the answer cannot be used at all, factors are formed from the categories stage 1 suggested.
/// </summary>
internal static class FactorRules
{
    /// <summary>The share of words a name in the answer must share with a feature's name to count as a renaming of it.</summary>
    private const double RenameOverlap = 0.5;

    private const string FallbackDescription = "Formed by rule from the categories suggested for this user's features, because the model's factor answer could not be used.";

    /// <summary>Reads the model's factors and the features it assigned to them.</summary>
    /// <param name="output">The answer.</param>
    /// <param name="shown">The features the prompt listed.</param>
    /// <param name="maxFactors">The most factors kept.</param>
    /// <param name="context">The attempt.</param>
    /// <returns>The answer, or an error phrased for the model when no usable factor is in it.</returns>
    public static OutputValidation<FactorAnswer> Read(FactorListOutput output, IReadOnlyList<DistinctFeature> shown, int maxFactors, OutputValidationContext context)
    {
        var byExact = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var byKey = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (DistinctFeature feature in shown)
        {
            byExact[feature.Name] = feature.Name;
            string key = Key(feature.Name);
            if (!byKey.TryGetValue(key, out List<string>? names))
            {
                byKey[key] = names = [];
            }

            names.Add(feature.Name);
        }

        var factors = new List<(Factor Factor, List<string> Members)>();
        var unknown = new List<(string Name, string Factor)>();
        var assigned = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        int mergedOrDropped = 0;
        foreach (FactorOutput item in output.Factors ?? [])
        {
            if (item is null || string.IsNullOrWhiteSpace(item.Name) || string.Equals(item.Name.Trim(), RpmPrompts.Unassigned, StringComparison.OrdinalIgnoreCase))
            {
                // Blank or reserved: its features are left to the rules.
                mergedOrDropped++;
                continue;
            }

            int index = factors.FindIndex(f => string.Equals(f.Factor.Name, item.Name.Trim(), StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                factors.Add((new Factor(item.Name, item.Description), []));
                index = factors.Count - 1;
            }
            else
            {
                mergedOrDropped++;
            }

            foreach (string? raw in item.Features ?? [])
            {
                string name = raw?.Trim() ?? string.Empty;
                string? feature = byExact.GetValueOrDefault(name)
                    ?? (byKey.TryGetValue(Key(name), out List<string>? same) && same.Count == 1 ? same[0] : null);
                if (feature is null)
                {
                    if (name.Length > 0)
                    {
                        unknown.Add((name, factors[index].Factor.Name));
                    }
                }
                else if (assigned.Add(feature))
                {
                    factors[index].Members.Add(feature);
                }
            }
        }

        if (factors.Count == 0)
        {
            return OutputValidation<FactorAnswer>.Invalid("\"factors\" must list at least one factor with a descriptive name.");
        }

        if (assigned.Count == 0 && !context.IsLastAttempt)
        {
            return OutputValidation<FactorAnswer>.Invalid("No factor lists any feature from the data under \"features\"; assign every feature, by its exact name, to one factor.");
        }

        if (factors.Count > maxFactors)
        {
            // Keep the factors that hold the most features; the others' features are left to the rules.
            var kept = factors.Select((f, i) => (f, i)).OrderByDescending(x => x.f.Members.Count).ThenBy(x => x.i).Take(maxFactors).OrderBy(x => x.i).Select(x => x.f).ToList();
            mergedOrDropped += factors.Count - kept.Count;
            foreach (var dropped in factors.Except(kept))
            {
                unknown.RemoveAll(u => string.Equals(u.Factor, dropped.Factor.Name, StringComparison.OrdinalIgnoreCase));
            }

            factors = kept;
        }

        var assignment = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (factor, members) in factors)
        {
            foreach (string member in members)
            {
                assignment[member] = factor.Name;
            }
        }

        return OutputValidation<FactorAnswer>.Valid(new FactorAnswer([.. factors.Select(f => f.Factor)], assignment, unknown, mergedOrDropped));
    }

    /// <summary>Forms factors from the categories stage 1 suggested (most frequent first), when the factor answer could not be used.</summary>
    /// <param name="features">Every distinct feature, most frequent first.</param>
    /// <param name="maxFactors">The most factors formed.</param>
    /// <returns>The factors and assignment, or <see langword="null"/> when no feature has a suggested category.</returns>
    public static FactorAnswer? FromSuggestions(IReadOnlyList<DistinctFeature> features, int maxFactors)
    {
        var weight = new Dictionary<string, (string Name, int Weight, int First)>(StringComparer.Ordinal);
        foreach (DistinctFeature feature in features)
        {
            if (feature.SuggestedFactors.FirstOrDefault(s => !string.IsNullOrWhiteSpace(s) && !string.Equals(s.Trim(), RpmPrompts.Unassigned, StringComparison.OrdinalIgnoreCase)) is not string suggestion)
            {
                continue;
            }

            string key = Key(suggestion);
            weight[key] = weight.TryGetValue(key, out var entry)
                ? (entry.Name, entry.Weight + feature.Count, entry.First)
                : (suggestion.Trim(), feature.Count, weight.Count);
        }

        if (weight.Count == 0)
        {
            return null;
        }

        var chosen = weight.OrderByDescending(w => w.Value.Weight).ThenBy(w => w.Value.First).Take(maxFactors).ToList();
        var factors = chosen.Select(c => new Factor(c.Value.Name, FallbackDescription)).ToList();
        var byKey = chosen.ToDictionary(c => c.Key, c => c.Value.Name, StringComparer.Ordinal);
        var assignment = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (DistinctFeature feature in features)
        {
            if (feature.SuggestedFactors.FirstOrDefault() is string s && byKey.TryGetValue(Key(s), out string? factor))
            {
                assignment[feature.Name] = factor;
            }
        }

        return new FactorAnswer(factors, assignment, [], 0);
    }

    /// <summary>
    /// Assigns every feature the answer left out, in order of the rules: the feature a name in the answer renamed
    /// (shared words); the factor its suggested category names; the factor most often carried by the features it
    /// shares items with; the factor whose name and description share the most words with it. Otherwise unassigned.
    /// </summary>
    /// <param name="features">Every distinct feature, most frequent first.</param>
    /// <param name="items">The history items with their features.</param>
    /// <param name="answer">The factors and the answer's assignment.</param>
    /// <returns>The complete assignment (feature name to factor name; absent = unassigned) and what the rules did.</returns>
    public static (Dictionary<string, string> Assignment, BuildDiagnostics Diagnostics) Complete(IReadOnlyList<DistinctFeature> features, IReadOnlyList<ItemFeatures> items, FactorAnswer answer)
    {
        var factorByKey = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Factor factor in answer.Factors)
        {
            factorByKey.TryAdd(Key(factor.Name), factor.Name);
        }

        var assignment = new Dictionary<string, string>(answer.Assignment, StringComparer.OrdinalIgnoreCase);
        int renamed = 0, byRule = 0, left = 0;

        // Pass 1: renamings and suggested categories, which depend on nothing else the rules decide.
        var pending = new List<DistinctFeature>();
        foreach (DistinctFeature feature in features.Where(f => !assignment.ContainsKey(f.Name)))
        {
            HashSet<string> words = Words(feature.Name);
            string key = Key(feature.Name);
            var renaming = answer.Unknown
                .Select(u => (u.Factor, Score: Math.Max(Jaccard(words, Words(u.Name)), Contains(key, Key(u.Name)) ? 0.75 : 0)))
                .Where(u => u.Score >= RenameOverlap)
                .OrderByDescending(u => u.Score)
                .ToList();
            if (renaming.Count > 0 && (renaming.Count == 1 || renaming[0].Score > renaming[1].Score || renaming.All(r => r.Factor == renaming[0].Factor)))
            {
                assignment[feature.Name] = renaming[0].Factor;
                renamed++;
                continue;
            }

            if (feature.SuggestedFactors.Select(s => factorByKey.GetValueOrDefault(Key(s))).FirstOrDefault(f => f is not null) is string suggested)
            {
                assignment[feature.Name] = suggested;
                byRule++;
                continue;
            }

            pending.Add(feature);
        }

        // Pass 2: co-occurrence with features assigned in pass 1 or by the answer, then shared words.
        var settled = new Dictionary<string, string>(assignment, StringComparer.OrdinalIgnoreCase);
        foreach (DistinctFeature feature in pending)
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (ItemFeatures item in items)
            {
                if (!item.Features.Any(f => string.Equals(f.Name, feature.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }

                foreach (Feature other in item.Features)
                {
                    if (settled.TryGetValue(other.Name, out string? factor) && !string.Equals(other.Name, feature.Name, StringComparison.OrdinalIgnoreCase))
                    {
                        counts[factor] = counts.GetValueOrDefault(factor) + 1;
                    }
                }
            }

            HashSet<string> words = Words(string.Join(" ", [feature.Name, .. feature.Contexts, .. feature.SuggestedFactors]));
            var best = answer.Factors
                .Select((f, i) => (f.Name, Count: counts.GetValueOrDefault(f.Name), Overlap: words.Intersect(Words(f.Name + " " + f.Description)).Count(), Order: i))
                .Where(f => f.Count > 0 || f.Overlap > 0)
                .OrderByDescending(f => f.Count).ThenByDescending(f => f.Overlap).ThenBy(f => f.Order)
                .FirstOrDefault();
            if (best.Name is not null)
            {
                assignment[feature.Name] = best.Name;
                byRule++;
            }
            else
            {
                left++;
            }
        }

        return (assignment, new BuildDiagnostics
        {
            UnknownFeatureNames = answer.Unknown.Count,
            RenamedFeatures = renamed,
            FeaturesAssignedByRule = byRule,
            FeaturesLeftUnassigned = left,
            FactorsMergedOrDropped = answer.MergedOrDropped,
        });
    }

    private static string Key(string name) => new([.. name.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant)]);

    private static HashSet<string> Words(string text)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        var current = new System.Text.StringBuilder();
        foreach (char c in text + " ")
        {
            if (char.IsLetterOrDigit(c))
            {
                current.Append(char.ToLowerInvariant(c));
            }
            else if (current.Length > 0)
            {
                string word = current.ToString();
                current.Clear();

                // Short function words say nothing about a feature.
                if (word.Length > 2 && word is not ("the" or "and" or "for" or "with" or "this" or "that" or "its"))
                {
                    words.Add(word.Length > 4 && word.EndsWith('s') ? word[..^1] : word);
                }
            }
        }

        return words;
    }

    // One name holds the other whole ("scifi" in "scifigenre"): a renaming, if the shorter is not a mere fragment.
    private static bool Contains(string a, string b) =>
        Math.Min(a.Length, b.Length) >= 4 && (a.Contains(b, StringComparison.Ordinal) || b.Contains(a, StringComparison.Ordinal));

    private static double Jaccard(HashSet<string> a, HashSet<string> b) =>
        a.Count == 0 || b.Count == 0 ? 0 : (double)a.Intersect(b).Count() / a.Union(b).Count();
}

/// <summary>A factor answer read leniently: the factors, the features the model assigned, and the names it used that are not features.</summary>
/// <param name="Factors">The factors, in the answer's order.</param>
/// <param name="Assignment">Feature name to factor name, for the features the answer assigned.</param>
/// <param name="Unknown">Names in the answer that are not features of the data, with the factor they were put under.</param>
/// <param name="MergedOrDropped">Factors merged into another of the same name or dropped.</param>
internal sealed record FactorAnswer(IReadOnlyList<Factor> Factors, IReadOnlyDictionary<string, string> Assignment, IReadOnlyList<(string Name, string Factor)> Unknown, int MergedOrDropped);
