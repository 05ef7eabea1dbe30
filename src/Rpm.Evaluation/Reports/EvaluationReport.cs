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

    public required PricesReport Prices { get; init; }

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

    public required decimal Cost { get; init; }

    public static UsageReport From(UsageTotals usage, TokenPrices prices) => new()
    {
        Calls = usage.Calls,
        CachedCalls = usage.CachedCalls,
        InputTokens = usage.InputTokens,
        OutputTokens = usage.OutputTokens,
        EstimatedCalls = usage.EstimatedCalls,
        Cost = Math.Round(usage.Cost(prices), 6),
    };
}

internal sealed class MeanUsageReport
{
    public required double Calls { get; init; }

    public required double InputTokens { get; init; }

    public required double OutputTokens { get; init; }

    public required decimal Cost { get; init; }
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
}

internal sealed class SkippedReport
{
    public required string Name { get; init; }

    public required string Reason { get; init; }
}
