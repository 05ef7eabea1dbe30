using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Rpm;

/// <summary>
/// The telemetry of the stages' model calls, recorded where they all pass (<see cref="StructuredChat"/>): per call, the
/// GenAI conventions' token and duration histograms and <c>rpm.model.calls</c>; per repair turn, a log event and
/// <c>rpm.output.repairs</c>; per accepted answer that rests on a degraded judgment, a log event and <c>rpm.degradations</c>.
/// </summary>
internal sealed class ModelCallTelemetry : IModelCallObserver
{
    private readonly RpmOptions _options;
    private readonly ILogger _logger;
    private readonly RpmMetrics _metrics;
    private readonly string? _defaultModelId;
    private readonly string? _providerName;

    public ModelCallTelemetry(IChatClient chatClient, RpmOptions options, Type category, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(category);
        _metrics = RpmMetrics.For(meterFactory);
        ChatClientMetadata? metadata = chatClient.GetService<ChatClientMetadata>();
        _defaultModelId = metadata?.DefaultModelId;
        _providerName = metadata?.ProviderName;
    }

    public long CallStarting() => _options.TimeProvider.GetTimestamp();

    public void CallEnded(RpmStage stage, ChatOptions options, ChatResponse? response, Exception? error, long started)
    {
        string stageName = RpmTelemetry.StageName(stage);
        string? requestModel = options.ModelId ?? _defaultModelId;
        if (_metrics.ModelCalls.Enabled)
        {
            var tags = new TagList { { RpmTelemetry.StageAttribute, stageName } };
            AddIfKnown(ref tags, "gen_ai.request.model", requestModel);
            AddIfKnown(ref tags, "error.type", error?.GetType().FullName);
            _metrics.ModelCalls.Add(1, tags);
        }

        if (_metrics.OperationDuration.Enabled)
        {
            TagList tags = GenAITags(stageName, requestModel, response);
            AddIfKnown(ref tags, "error.type", error?.GetType().FullName);
            _metrics.OperationDuration.Record(_options.TimeProvider.GetElapsedTime(started).TotalSeconds, tags);
        }

        if (_metrics.TokenUsage.Enabled && response?.Usage is { } usage)
        {
            RecordTokens("input", usage.InputTokenCount);
            RecordTokens("output", usage.OutputTokenCount);
        }

        void RecordTokens(string type, long? count)
        {
            if (count is long tokens)
            {
                TagList tags = GenAITags(stageName, requestModel, response);
                tags.Add("gen_ai.token.type", type);
                _metrics.TokenUsage.Record((int)Math.Min(tokens, int.MaxValue), tags);
            }
        }
    }

    public void RepairSending(RpmStage stage, string itemId, int attempt, int maxAttempts, ModelOutputFailure failure, string error)
    {
        string stageName = RpmTelemetry.StageName(stage);
        string failureName = failure switch
        {
            ModelOutputFailure.Truncated => "truncated",
            ModelOutputFailure.Empty => "empty",
            _ => "invalid_output",
        };
        _metrics.OutputRepairs.Add(1, new KeyValuePair<string, object?>(RpmTelemetry.StageAttribute, stageName), new KeyValuePair<string, object?>("rpm.failure", failureName));
        RpmLog.OutputRepair(_logger, stageName, Item(stage, itemId), attempt, maxAttempts, failureName, error);
    }

    /// <summary>Reports an accepted answer that rests on a degraded judgment (a judgment left out on the last attempt, an answer read from the reasoning field, names matched by rule).</summary>
    public void Accepted<T>(RpmStage stage, string itemId, ValidatedChatResponse<T> response)
    {
        BuildDiagnostics degradations = response.Diagnostics with { OutputRepairs = 0 };
        if (degradations.IsClean)
        {
            return;
        }

        string stageName = RpmTelemetry.StageName(stage);
        _metrics.Degraded(stageName, degradations);
        RpmLog.DegradedAnswer(_logger, stageName, Item(stage, itemId), response.Repairs + 1, degradations.ToString());
    }

    private static void AddIfKnown(ref TagList tags, string name, string? value)
    {
        if (value is not null)
        {
            tags.Add(name, value);
        }
    }

    // The item of factor construction is the user: it follows the rule for user ids.
    private string Item(RpmStage stage, string itemId) =>
        stage == RpmStage.FactorConstruction && !_options.EmitRawUserIds ? RpmTelemetry.PseudonymizeUserId(itemId) : itemId;

    private TagList GenAITags(string stageName, string? requestModel, ChatResponse? response)
    {
        var tags = new TagList
        {
            { "gen_ai.operation.name", "chat" },
            { RpmTelemetry.StageAttribute, stageName },
        };
        AddIfKnown(ref tags, "gen_ai.request.model", requestModel);
        AddIfKnown(ref tags, "gen_ai.provider.name", _providerName);
        AddIfKnown(ref tags, "gen_ai.response.model", response?.ModelId);
        return tags;
    }
}
