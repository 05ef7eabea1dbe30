using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Rpm;

/// <summary>
/// The instruments of the meter <see cref="RpmTelemetry.MeterName"/>: one set per <see cref="IMeterFactory"/> (so that a
/// host's meters, and a test's, are its own), and one shared set on a static meter when no factory is given.
/// </summary>
internal sealed class RpmMetrics
{
    // The GenAI conventions' advised buckets (as Microsoft.Extensions.AI's OpenTelemetryChatClient uses them).
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly int[] TokenBuckets = [1, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864];

    // A warm personalization takes a millisecond or two; one with a feature call, a model call's time.
    private static readonly double[] PersonalizeBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20];

    // Builds take minutes to hours: the model-call buckets, then longer ones.
    private static readonly double[] BuildBuckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

    private static readonly string? Version = typeof(RpmMetrics).Assembly.GetName().Version?.ToString();
    private static readonly Lazy<RpmMetrics> Shared = new(() => new RpmMetrics(new Meter(RpmTelemetry.MeterName, Version)));
    private static readonly ConditionalWeakTable<IMeterFactory, RpmMetrics> ByFactory = [];

    private RpmMetrics(Meter meter)
    {
        TokenUsage = meter.CreateHistogram(
            RpmTelemetry.TokenUsageMetric, "{token}", "Measures number of input and output tokens used", tags: null, new InstrumentAdvice<int> { HistogramBucketBoundaries = TokenBuckets });
        OperationDuration = meter.CreateHistogram(
            RpmTelemetry.OperationDurationMetric, "s", "Measures the duration of a GenAI operation", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        ModelCalls = meter.CreateCounter<long>(RpmTelemetry.ModelCallsMetric, "{call}", "Chat model calls made by the RPM stages, repair turns included");
        OutputRepairs = meter.CreateCounter<long>(RpmTelemetry.OutputRepairsMetric, "{repair}", "Repair turns sent after an unusable answer");
        Fallbacks = meter.CreateCounter<long>(RpmTelemetry.FallbacksMetric, "{response}", "Responses made without the chat model after it failed");
        Degradations = meter.CreateCounter<long>(RpmTelemetry.DegradationsMetric, "{event}", "Places where a build rests on a rule or a degraded answer instead of the model's judgment");
        ResumedResults = meter.CreateCounter<long>(RpmTelemetry.ResumedResultsMetric, "{result}", "Stage results a build read back from its checkpoints instead of paying for them again");
        BuildDuration = meter.CreateHistogram(
            RpmTelemetry.BuildDurationMetric, "s", "Duration of user-model builds and history updates", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = BuildBuckets });
        PersonalizeDuration = meter.CreateHistogram(
            RpmTelemetry.PersonalizeDurationMetric, "s", "Time spent personalizing live chat turns and agent runs", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = PersonalizeBuckets });
        RespondDuration = meter.CreateHistogram(
            RpmTelemetry.RespondDurationMetric, "s", "Duration of personalized responses", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    public Histogram<int> TokenUsage { get; }

    public Histogram<double> OperationDuration { get; }

    public Counter<long> ModelCalls { get; }

    public Counter<long> OutputRepairs { get; }

    public Counter<long> Fallbacks { get; }

    public Counter<long> Degradations { get; }

    public Counter<long> ResumedResults { get; }

    public Histogram<double> BuildDuration { get; }

    public Histogram<double> RespondDuration { get; }

    public Histogram<double> PersonalizeDuration { get; }

    /// <summary>Gets the instruments of a factory's meter, or of the shared static meter.</summary>
    public static RpmMetrics For(IMeterFactory? meterFactory) =>
        meterFactory is null
            ? Shared.Value
            : ByFactory.GetValue(meterFactory, factory => new RpmMetrics(factory.Create(new MeterOptions(RpmTelemetry.MeterName) { Version = Version })));

    /// <summary>Counts the degradations of a stage (each non-zero count but the repairs, which have their own counter).</summary>
    public void Degraded(string stage, BuildDiagnostics diagnostics)
    {
        if (!Degradations.Enabled)
        {
            return;
        }

        Add("answer_read_from_reasoning", diagnostics.AnswersReadFromReasoning);
        Add("missing_judgment", diagnostics.MissingJudgments);
        Add("feature_not_shown_to_factor_construction", diagnostics.FeaturesNotShownToFactorConstruction);
        Add("unknown_feature_name", diagnostics.UnknownFeatureNames);
        Add("renamed_feature", diagnostics.RenamedFeatures);
        Add("feature_assigned_by_rule", diagnostics.FeaturesAssignedByRule);
        Add("feature_left_unassigned", diagnostics.FeaturesLeftUnassigned);
        Add("factor_merged_or_dropped", diagnostics.FactorsMergedOrDropped);
        Add("factors_from_suggested_categories", diagnostics.FactorsFromSuggestedCategories ? 1 : 0);
        Add("item_excluded", diagnostics.ItemsExcluded);
        Add("ungrounded_path", diagnostics.UngroundedPaths);

        void Add(string kind, int count)
        {
            if (count > 0)
            {
                Degradations.Add(count, new KeyValuePair<string, object?>(RpmTelemetry.StageAttribute, stage), new KeyValuePair<string, object?>("rpm.degradation", kind));
            }
        }
    }
}
