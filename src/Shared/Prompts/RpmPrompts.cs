using System.Text.Json.Nodes;

namespace Rpm;

/// <summary>
/// What the prompts of every stage share (each stage's prompt is in its contract, in the stage's folder, e.g.
/// <c>Features/FeatureExtractionContract.cs</c>): the version, and the features and factor statistics as data. Instructions live in the system message; all user text travels as data.
/// Layout for prefix caching: what every call of a stage shares within a user's build or queries (the instructions, then
/// the user's factor statistics) comes first, and the per-item data last, so a provider's prefix cache (vLLM's blocks,
/// OpenAI's 1,024-token prefixes) serves the shared part once.
/// </summary>
internal static class RpmPrompts
{
    /// <summary>Changes whenever a prompt changes, so that checkpoints and caches of older prompts are not reused.</summary>
    public const string Version = "rpm-prompts-v6";

    public const string Unassigned = "unassigned";

    public static JsonArray FeaturesNode(IEnumerable<Feature> features)
    {
        var array = new JsonArray();
        foreach (Feature feature in features)
        {
            array.Add(new JsonObject
            {
                ["name"] = feature.Name,
                ["context"] = feature.Context,
                ["factor"] = feature.Factor ?? Unassigned,
            });
        }

        return array;
    }

    public static JsonArray StatisticsNode(RpmTask task, IEnumerable<FactorStatistics> statistics)
    {
        var array = new JsonArray();
        foreach (FactorStatistics s in statistics)
        {
            var node = new JsonObject
            {
                ["factor"] = s.Factor.Name,
                ["description"] = s.Factor.Description,
                ["coverage"] = s.Coverage,
            };

            if (task.Kind == RpmTaskKind.Generation)
            {
                node["influence"] = s.Influence ?? 0;
                node["polarity"] = new JsonObject
                {
                    ["positive"] = Math.Round(s.PositiveShare ?? 0, 3),
                    ["neutral"] = Math.Round(s.NeutralShare ?? 0, 3),
                    ["negative"] = Math.Round(s.NegativeShare ?? 0, 3),
                };
            }
            else
            {
                // Only answers the user gave under this factor; an absent answer has propensity 0.
                var propensity = new JsonObject();
                foreach (var (label, value) in s.Propensity.Where(p => p.Value > 0).OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
                {
                    propensity[label] = Math.Round(value, 3);
                }

                node["propensity"] = propensity;
                if (s.MeanRating is double mean)
                {
                    node["meanAnswer"] = Math.Round(mean, 3);
                }
            }

            array.Add(node);
        }

        return array;
    }
}
