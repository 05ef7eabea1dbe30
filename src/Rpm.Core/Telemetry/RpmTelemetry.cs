using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Rpm;

/// <summary>
/// The names Rpm.Core reports under: spans on the activity source <see cref="SourceName"/> and metrics on the meter
/// <see cref="MeterName"/>, named after the OpenTelemetry GenAI semantic conventions where they apply. Add both to your
/// OpenTelemetry set-up (<c>AddSource(RpmTelemetry.SourceName)</c>, <c>AddMeter(RpmTelemetry.MeterName)</c>) to see them.
/// </summary>
/// <remarks>
/// User ids are never emitted as given unless <see cref="RpmOptions.EmitRawUserIds"/> is set: spans, metrics and log
/// messages carry <see cref="PseudonymizeUserId"/> of the id instead, which an operator can compute to find a user's
/// telemetry. Metrics carry no user id at all.
/// </remarks>
public static class RpmTelemetry
{
    /// <summary>The name of the activity source of the pipeline's spans (<c>rpm.build</c>, <c>rpm.respond</c> and a span per stage).</summary>
    public const string SourceName = "Rpm.Core";

    /// <summary>The name of the meter of the pipeline's metrics (the instruments named <c>...Metric</c> in this class).</summary>
    public const string MeterName = "Rpm.Core";

    /// <summary>
    /// The histogram of tokens per model call, in <c>{token}</c> (the GenAI convention's instrument), with attributes
    /// <c>gen_ai.token.type</c> (<c>input</c> or <c>output</c>), <c>gen_ai.operation.name</c> (<c>chat</c>),
    /// <c>gen_ai.request.model</c> and <c>gen_ai.provider.name</c> when known, <c>gen_ai.response.model</c>, and <see cref="StageAttribute"/>.
    /// </summary>
    internal const string TokenUsageMetric = "gen_ai.client.token.usage";

    /// <summary>
    /// The histogram of the duration of each model call, in seconds (the GenAI convention's instrument), with the
    /// attributes of <see cref="TokenUsageMetric"/> but the token type, and <c>error.type</c> when the call failed.
    /// </summary>
    internal const string OperationDurationMetric = "gen_ai.client.operation.duration";

    /// <summary>The counter of model calls, repairs included, in <c>{call}</c>, with <see cref="StageAttribute"/>, <c>gen_ai.request.model</c> and <c>error.type</c> when the call failed.</summary>
    internal const string ModelCallsMetric = "rpm.model.calls";

    /// <summary>
    /// The counter of repair turns, in <c>{repair}</c>: an answer was unusable and the model was asked again with what was
    /// wrong. Attributes <see cref="StageAttribute"/> and <c>rpm.failure</c> (<c>invalid_output</c>, <c>truncated</c>, <c>empty</c>).
    /// </summary>
    internal const string OutputRepairsMetric = "rpm.output.repairs";

    /// <summary>
    /// The counter of responses made without the chat model (<see cref="RpmOptions.FallbackToModelFree"/>), in
    /// <c>{response}</c>, with <see cref="StageAttribute"/> naming the stage that failed.
    /// </summary>
    internal const string FallbacksMetric = "rpm.fallbacks";

    /// <summary>
    /// The counter of places where a build rests on a rule or a degraded answer instead of the model's judgment, in
    /// <c>{event}</c>, with <see cref="StageAttribute"/> and <c>rpm.degradation</c> (the <see cref="BuildDiagnostics"/> count it adds to).
    /// </summary>
    internal const string DegradationsMetric = "rpm.degradations";

    /// <summary>
    /// The counter of stage results (one per item and stage, one for the factors) a build read back from its checkpoints
    /// instead of paying for their model calls again, in <c>{result}</c>, with <c>rpm.operation</c>.
    /// </summary>
    internal const string ResumedResultsMetric = "rpm.build.resumed_results";

    /// <summary>The histogram of the duration of builds and history updates, in seconds, with <c>rpm.operation</c> (<c>build</c> or <c>add_history</c>) and <c>error.type</c> on failure.</summary>
    internal const string BuildDurationMetric = "rpm.build.duration";

    /// <summary>The histogram of the duration of responses, in seconds, with <c>rpm.fallback</c> (whether the model-free answer was given) and <c>error.type</c> on failure.</summary>
    internal const string RespondDurationMetric = "rpm.respond.duration";

    /// <summary>
    /// The histogram of the time (seconds) RPM spends personalizing a live chat turn or agent run before the turn's own
    /// call, with <c>rpm.outcome</c> (<c>personalized</c>, <c>cached</c>, <c>degraded</c>, <c>no_model</c>, <c>failed</c>),
    /// <c>rpm.mode</c> and, when it failed, <c>error.type</c>: <c>rpm.personalize.duration</c>.
    /// </summary>
    internal const string PersonalizeDurationMetric = "rpm.personalize.duration";

    /// <summary>
    /// The attribute naming the pipeline stage of a span or measurement: <c>feature_extraction</c>,
    /// <c>factor_construction</c>, <c>statistics</c>, <c>reasoning_path</c>, <c>embeddings</c>,
    /// <c>query_feature_extraction</c>, <c>retrieval</c> or <c>generation</c>.
    /// </summary>
    internal const string StageAttribute = "rpm.stage";

    /// <summary>The span attribute carrying the user: <see cref="PseudonymizeUserId"/> of the id, or the id itself when <see cref="RpmOptions.EmitRawUserIds"/> is set.</summary>
    internal const string UserIdAttribute = "rpm.user_id";

    internal static ActivitySource Source { get; } = new(SourceName, typeof(RpmTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// Returns the pseudonym under which a user appears in telemetry: the first 16 hexadecimal digits (lower case) of the
    /// SHA-256 hash of the id's UTF-8 bytes. It is stable across processes and versions, so an operator can compute it to
    /// find one user's spans and log messages.
    /// </summary>
    /// <param name="userId">The user id.</param>
    /// <returns>The pseudonym, 16 characters.</returns>
    /// <remarks>
    /// A pseudonym, not anonymization: whoever can guess an id (an e-mail address, a small number) can hash it and
    /// recognize it. Use opaque user ids where that matters.
    /// </remarks>
    public static string PseudonymizeUserId(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(userId), hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    /// <summary>Gets the value of <see cref="StageAttribute"/> for a model stage: its name in snake case (<c>FeatureExtraction</c> is <c>feature_extraction</c>).</summary>
    internal static string StageName(RpmStage stage)
    {
        string name = stage.ToString();
        var snake = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                snake.Append('_');
            }

            snake.Append(char.ToLowerInvariant(name[i]));
        }

        return snake.ToString();
    }
}
