using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>
/// How clean a built user model is: the places where the chat model's answers needed a repair or a deterministic rule
/// instead of the model's own judgment. A build never aborts over these; it counts them here (summed over the build and
/// every later <see cref="RpmPipeline.AddHistoryAsync"/>), so that a user can see what a model rests on.
/// </summary>
/// <remarks>All counts are of events, not of model calls; <see cref="UserModel.BuildUsage"/> has the calls and tokens.</remarks>
public sealed record BuildDiagnostics
{
    /// <summary>Gets diagnostics of a build where nothing needed repair.</summary>
    public static BuildDiagnostics None { get; } = new();

    /// <summary>Gets how many answers were invalid at first and fixed by a repair turn (the error told to the model).</summary>
    public int OutputRepairs { get; init; }

    /// <summary>Gets how many answers had empty text and were read from the response's reasoning field instead (a server's reasoning parser moved them).</summary>
    public int AnswersReadFromReasoning { get; init; }

    /// <summary>
    /// Gets how many generation-task features kept no influence or polarity judgment because the model left it out even
    /// after the repair turn. Such a judgment stays unknown (never silently false) and is not counted in the statistics.
    /// </summary>
    [JsonInclude]
    public int MissingJudgments { get; internal init; }

    /// <summary>
    /// Gets how many distinct features were beyond the bounded list sent to factor construction
    /// (<see cref="RpmOptions.MaxFactorConstructionFeatures"/>, most frequent first); they were assigned by rule.
    /// </summary>
    [JsonInclude]
    public int FeaturesNotShownToFactorConstruction { get; internal init; }

    /// <summary>Gets how many names in the factor answer were not features of the data (ignored, or matched to the feature they renamed).</summary>
    [JsonInclude]
    public int UnknownFeatureNames { get; internal init; }

    /// <summary>Gets how many features the factor answer named in other words, matched back by their shared words.</summary>
    [JsonInclude]
    public int RenamedFeatures { get; internal init; }

    /// <summary>
    /// Gets how many features the factor answer left out (or that were not shown to it) and were assigned by rule: the
    /// factor the feature's stage-1 category names, else the factor its items share most often with other features.
    /// </summary>
    [JsonInclude]
    public int FeaturesAssignedByRule { get; internal init; }

    /// <summary>Gets how many features no rule could assign; they stay unassigned and carry no statistics.</summary>
    [JsonInclude]
    public int FeaturesLeftUnassigned { get; internal init; }

    /// <summary>Gets how many factors of the factor answer were merged into another of the same name, dropped as blank or reserved, or dropped beyond <see cref="RpmOptions.MaxFactors"/>.</summary>
    [JsonInclude]
    public int FactorsMergedOrDropped { get; internal init; }

    /// <summary>
    /// Gets a value indicating whether the factor answer could not be used at all (invalid after the repair, or refused),
    /// so that the factors were formed by rule from the categories suggested in stage 1.
    /// </summary>
    [JsonInclude]
    public bool FactorsFromSuggestedCategories { get; internal init; }

    /// <summary>Gets why the factor answer could not be used, when <see cref="FactorsFromSuggestedCategories"/> is set.</summary>
    [JsonInclude]
    public string? FactorFallbackReason { get; internal init; }

    /// <summary>
    /// Gets how many history items were left out because the model refused them or the provider's content filter stopped
    /// them (a judgment about the content, which a re-run would meet again). Such an item counts in no statistic (refused
    /// at stage 1) or has no reasoning path (refused at stage 4); the model's paths say which items it holds.
    /// </summary>
    [JsonInclude]
    public int ItemsExcluded { get; internal init; }

    /// <summary>
    /// Gets how many reasoning paths (stage 4) stayed ungrounded after the repair turn: a citation or a number in the text
    /// matched no statistic shown to the model, or the text called something a factor that is not one of the user's.
    /// Such a path is kept (its item is still answered from it) and counted here, never silently accepted; the share of
    /// paths without one is the model's grounding share (README, "Grounded reasoning paths").
    /// </summary>
    [JsonInclude]
    public int UngroundedPaths { get; internal init; }

    /// <summary>Gets the first exclusion, as <c>item 'id' at stage: reason</c>, when <see cref="ItemsExcluded"/> is not 0.</summary>
    [JsonInclude]
    public string? ExclusionReason { get; internal init; }

    /// <summary>Gets a value indicating whether nothing needed a repair or a rule.</summary>
    public bool IsClean => this == None;

    /// <summary>Adds two sets of diagnostics.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>The sum; the fallback reason of <paramref name="right"/> wins when both have one.</returns>
    public static BuildDiagnostics operator +(BuildDiagnostics left, BuildDiagnostics right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new BuildDiagnostics
        {
            OutputRepairs = left.OutputRepairs + right.OutputRepairs,
            AnswersReadFromReasoning = left.AnswersReadFromReasoning + right.AnswersReadFromReasoning,
            MissingJudgments = left.MissingJudgments + right.MissingJudgments,
            FeaturesNotShownToFactorConstruction = left.FeaturesNotShownToFactorConstruction + right.FeaturesNotShownToFactorConstruction,
            UnknownFeatureNames = left.UnknownFeatureNames + right.UnknownFeatureNames,
            RenamedFeatures = left.RenamedFeatures + right.RenamedFeatures,
            FeaturesAssignedByRule = left.FeaturesAssignedByRule + right.FeaturesAssignedByRule,
            FeaturesLeftUnassigned = left.FeaturesLeftUnassigned + right.FeaturesLeftUnassigned,
            FactorsMergedOrDropped = left.FactorsMergedOrDropped + right.FactorsMergedOrDropped,
            FactorsFromSuggestedCategories = left.FactorsFromSuggestedCategories || right.FactorsFromSuggestedCategories,
            FactorFallbackReason = right.FactorFallbackReason ?? left.FactorFallbackReason,
            ItemsExcluded = left.ItemsExcluded + right.ItemsExcluded,
            UngroundedPaths = left.UngroundedPaths + right.UngroundedPaths,
            ExclusionReason = left.ExclusionReason ?? right.ExclusionReason,
        };
    }

    /// <summary>Describes the non-zero counts in one line, or says the build was clean.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        var parts = new List<string>();
        Add(OutputRepairs, "answer(s) repaired");
        Add(AnswersReadFromReasoning, "answer(s) read from the reasoning field");
        Add(MissingJudgments, "influence judgment(s) missing");
        Add(FeaturesNotShownToFactorConstruction, "feature(s) beyond the factor-construction list");
        Add(UnknownFeatureNames, "unknown feature name(s) in the factor answer");
        Add(RenamedFeatures, "renamed feature(s) matched back");
        Add(FeaturesAssignedByRule, "feature(s) assigned by rule");
        Add(FeaturesLeftUnassigned, "feature(s) left unassigned");
        Add(FactorsMergedOrDropped, "factor(s) merged or dropped");
        Add(UngroundedPaths, "reasoning path(s) ungrounded after the repair");
        if (ItemsExcluded > 0)
        {
            parts.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{ItemsExcluded} item(s) left out (e.g. {ExclusionReason})"));
        }

        if (FactorsFromSuggestedCategories)
        {
            parts.Add("factors formed from suggested categories" + (FactorFallbackReason is null ? string.Empty : $" ({FactorFallbackReason})"));
        }

        return parts.Count == 0 ? "clean" : string.Join(", ", parts);

        void Add(int count, string what)
        {
            if (count > 0)
            {
                parts.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count} {what}"));
            }
        }
    }
}
