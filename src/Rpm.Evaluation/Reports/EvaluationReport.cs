using System.Text.Json.Serialization;

namespace Rpm.Evaluation;

/// <summary>The JSON shape of <c>metrics.json</c>: metrics, costs and failures per method.</summary>
internal sealed class EvaluationReport
{
    public required string Dataset { get; init; }

    public required string Task { get; init; }

    public required string Kind { get; init; }

    public required string Model { get; init; }

    public required int Users { get; init; }

    public required int People { get; init; }

    public required int Queries { get; init; }

    public required int RetrievalCount { get; init; }

    public int BatchSize { get; init; } = 1;

    // Null when the prices are not known: every cost below is then null too, never a guess.
    public required PricesReport? Prices { get; init; }

    public required UsageReport Spent { get; init; }

    public required double ElapsedSeconds { get; init; }

    public required List<MethodReport> Methods { get; init; }

    public required List<SkippedReport> Skipped { get; init; }

    public required List<PairedDifference> Comparisons { get; init; }

    public double? IntervalLevel { get; init; }

    public required string Note { get; init; }
}

internal sealed class PricesReport
{
    public required decimal InputPerMillion { get; init; }

    public required decimal OutputPerMillion { get; init; }
}

internal sealed class UsageReport
{
    public required long Calls { get; init; }

    public required long CachedCalls { get; init; }

    public required long InputTokens { get; init; }

    public required long OutputTokens { get; init; }

    public required long EstimatedCalls { get; init; }

    public required decimal? Cost { get; init; }

    public static UsageReport From(UsageTotals usage, TokenPrices? prices) => new()
    {
        Calls = usage.Calls,
        CachedCalls = usage.CachedCalls,
        InputTokens = usage.InputTokens,
        OutputTokens = usage.OutputTokens,
        EstimatedCalls = usage.EstimatedCalls,
        Cost = prices is null ? null : Math.Round(usage.Cost(prices), 6),
    };
}

internal sealed class MeanUsageReport
{
    public required double Calls { get; init; }

    public required double InputTokens { get; init; }

    public required double OutputTokens { get; init; }

    public required decimal? Cost { get; init; }
}

internal sealed class MethodReport
{
    public required string Name { get; init; }

    public required string Description { get; init; }

    public required bool UsesChatModel { get; init; }

    public required Dictionary<string, double> Metrics { get; init; }

    public required int Count { get; init; }

    public required Dictionary<string, double[]> Intervals { get; init; }

    public required int InvalidAnswers { get; init; }

    public required int FailedQueries { get; init; }

    public required UsageReport Build { get; init; }

    public required MeanUsageReport BuildPerUser { get; init; }

    public required UsageReport Query { get; init; }

    public required MeanUsageReport PerQuery { get; init; }

    public required string Predictions { get; init; }

    public List<MethodFailure>? Failures { get; init; }

    public CrossValidation? Tuning { get; init; }

    /// <summary>For a method that builds user models: where its builds did not follow the paper (absent for the others).</summary>
    public NonPaperPathsReport? NonPaperPaths { get; init; }
}

/// <summary>
/// The JSON shape of a method's <c>nonPaperPaths</c> in <c>metrics.json</c> (<see cref="BuildTotals"/>). The names are
/// stable; every share is a fraction in [0, 1] rounded to 6 places, 0 when its denominator is 0; 0 is the paper's path.
/// </summary>
internal sealed class NonPaperPathsReport
{
    /// <summary>Gets the users whose model was built.</summary>
    public required int Users { get; init; }

    /// <summary>Gets the users whose factors were formed by rule from the stage-1 categories (the factor answer was unusable).</summary>
    public required int UsersWithFactorsFromRules { get; init; }

    /// <summary>Gets <see cref="UsersWithFactorsFromRules"/> over <see cref="Users"/>.</summary>
    public required double UsersWithFactorsFromRulesShare { get; init; }

    /// <summary>Gets the distinct features of each user's reasoning paths, summed over users.</summary>
    public required int Features { get; init; }

    /// <summary>Gets the features a rule assigned to a factor (left out of, or not shown to, the factor answer).</summary>
    public required int FeaturesAssignedByRule { get; init; }

    /// <summary>Gets <see cref="FeaturesAssignedByRule"/> over <see cref="Features"/>.</summary>
    public required double FeaturesAssignedByRuleShare { get; init; }

    /// <summary>Gets the history items given to the builds.</summary>
    public required int HistoryItems { get; init; }

    /// <summary>Gets the history items left out (refused, or stopped by a content filter).</summary>
    public required int ItemsExcluded { get; init; }

    /// <summary>Gets <see cref="ItemsExcluded"/> over <see cref="HistoryItems"/>.</summary>
    public required double ItemsExcludedShare { get; init; }

    /// <summary>Gets the influence judgments left unknown after the repair turn (generation tasks).</summary>
    public required int JudgmentsLeftUnknown { get; init; }

    /// <summary>Gets the answers fixed by the repair turn.</summary>
    public required int AnswersRepaired { get; init; }

    /// <summary>Gets the answers read from the response's reasoning field.</summary>
    public required int AnswersReadFromReasoning { get; init; }

    /// <summary>Gets the reasoning paths of the built models.</summary>
    public required int ReasoningPaths { get; init; }

    /// <summary>Gets the reasoning paths kept ungrounded after the repair turn (our addition to the paper: it checks every path).</summary>
    public required int UngroundedPaths { get; init; }

    /// <summary>Gets <see cref="UngroundedPaths"/> over <see cref="ReasoningPaths"/>.</summary>
    public required double UngroundedPathsShare { get; init; }

    /// <summary>Gets the grounding share: the paths with no unsupported citation, number or factor name (1 minus <see cref="UngroundedPathsShare"/>).</summary>
    public required double GroundingShare { get; init; }

    /// <summary>Gets the rationales (stage 7) checked: the chat model's answers to the queries.</summary>
    public required int Rationales { get; init; }

    /// <summary>Gets the rationales kept ungrounded after the repair turn (our addition to the paper: it checks every rationale).</summary>
    public required int UngroundedRationales { get; init; }

    /// <summary>Gets <see cref="UngroundedRationales"/> over <see cref="Rationales"/>.</summary>
    public required double UngroundedRationalesShare { get; init; }

    public static NonPaperPathsReport From(BuildTotals totals) => new()
    {
        Users = totals.Users,
        UsersWithFactorsFromRules = totals.UsersWithFactorsFromRules,
        UsersWithFactorsFromRulesShare = Math.Round(totals.UsersWithFactorsFromRulesShare, 6),
        Features = totals.Features,
        FeaturesAssignedByRule = totals.FeaturesAssignedByRule,
        FeaturesAssignedByRuleShare = Math.Round(totals.FeaturesAssignedByRuleShare, 6),
        HistoryItems = totals.HistoryItems,
        ItemsExcluded = totals.ItemsExcluded,
        ItemsExcludedShare = Math.Round(totals.ItemsExcludedShare, 6),
        JudgmentsLeftUnknown = totals.JudgmentsLeftUnknown,
        AnswersRepaired = totals.AnswersRepaired,
        AnswersReadFromReasoning = totals.AnswersReadFromReasoning,
        ReasoningPaths = totals.ReasoningPaths,
        UngroundedPaths = totals.UngroundedPaths,
        UngroundedPathsShare = Math.Round(totals.UngroundedPathsShare, 6),
        GroundingShare = Math.Round(totals.GroundingShare, 6),
        Rationales = totals.Rationales,
        UngroundedRationales = totals.UngroundedRationales,
        UngroundedRationalesShare = Math.Round(totals.UngroundedRationalesShare, 6),
    };
}

internal sealed class SkippedReport
{
    public required string Name { get; init; }

    public required string Reason { get; init; }
}
