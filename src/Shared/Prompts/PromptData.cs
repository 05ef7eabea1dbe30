using System.Text.Json.Nodes;

namespace Rpm;

/// <summary>
/// The JSON shapes in which RPM's prompts show a user model's parts: features (stages 4, 5 and 7) and factor statistics
/// (stage 3's C_u, shown in stages 4, 5 and 7), exactly as RPM's own prompts write them, so that a method built from
/// some of RPM's parts (the paper's ablations, arXiv 2505.21082 Table 2) shows them identically. Put the results in the
/// data block of <see cref="PromptRules.Messages"/>; <see cref="PromptRules.StatisticsRules"/> says what each statistic means.
/// </summary>
internal static class PromptData
{
    /// <summary>Writes features as RPM's prompts do: one object per feature with <c>name</c>, <c>context</c> and <c>factor</c> (<c>unassigned</c> when it fits no factor).</summary>
    /// <param name="features">The features, in order.</param>
    /// <returns>A JSON array with one object per feature.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="features"/> is null.</exception>
    public static JsonArray Features(IEnumerable<Feature> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        return RpmPrompts.FeaturesNode(features);
    }

    /// <summary>
    /// Writes factor statistics as RPM's prompts do: per factor its name, description and coverage, then propensity per
    /// answer (and the mean answer for ratings), or influence and polarity shares for generation.
    /// </summary>
    /// <param name="task">The task (its kind decides which statistics are written).</param>
    /// <param name="statistics">The statistics, in order.</param>
    /// <returns>A JSON array with one object per factor.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static JsonArray FactorStatistics(RpmTask task, IEnumerable<FactorStatistics> statistics)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(statistics);
        return RpmPrompts.StatisticsNode(task, statistics);
    }
}
