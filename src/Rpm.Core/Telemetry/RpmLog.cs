using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>
/// Rpm.Core's log events, source-generated. Event ids are grouped by area: 1xxx the model's answers (logged under the
/// stage that asked: <c>Rpm.FeatureExtractor</c>, <c>Rpm.FactorConstructor</c>, <c>Rpm.ReasoningPathBuilder</c>,
/// <c>Rpm.ResponseGenerator</c>), 2xxx builds and 3xxx responses (<c>Rpm.RpmPipeline</c>). User ids in them follow
/// <see cref="RpmOptions.EmitRawUserIds"/>. The README's Telemetry section lists them; keep the two in step.
/// </summary>
internal static partial class RpmLog
{
    // 1xxx: the model's answers.
    [LoggerMessage(EventId = 1001, EventName = "OutputRepair", Level = LogLevel.Warning,
        Message = "The {Stage} answer for {ItemId} was unusable on attempt {Attempt} of {MaxAttempts} ({Failure}): {Reason} A repair turn was sent.")]
    public static partial void OutputRepair(ILogger logger, string stage, string itemId, int attempt, int maxAttempts, string failure, string reason);

    [LoggerMessage(EventId = 1002, EventName = "DegradedAnswer", Level = LogLevel.Warning,
        Message = "The {Stage} answer for {ItemId} was accepted on attempt {Attempt} with a degraded judgment: {Degradations}.")]
    public static partial void DegradedAnswer(ILogger logger, string stage, string itemId, int attempt, string degradations);

    // 2xxx: builds and history updates.
    [LoggerMessage(EventId = 2001, EventName = "BuildCompleted", Level = LogLevel.Information,
        Message = "The {Operation} of user {UserId} saved model version {Version} with {Paths} reasoning paths; it cost {Calls} model calls, {InputTokens} input and {OutputTokens} output tokens; diagnostics: {Diagnostics}.")]
    public static partial void BuildCompleted(ILogger logger, string operation, string userId, long version, int paths, int calls, long inputTokens, long outputTokens, string diagnostics);

    [LoggerMessage(EventId = 2002, EventName = "BuildResumed", Level = LogLevel.Information,
        Message = "The {Operation} of user {UserId} resumes from its checkpoints: {Results} finished stage results are read back, their model calls not paid again.")]
    public static partial void BuildResumed(ILogger logger, string operation, string userId, int results);

    [LoggerMessage(EventId = 2003, EventName = "ItemExcluded", Level = LogLevel.Warning,
        Message = "History item {ItemId} of user {UserId} is left out of the model at {Stage}: {Reason}")]
    public static partial void ItemExcluded(ILogger logger, string itemId, string userId, string stage, string reason);

    [LoggerMessage(EventId = 2004, EventName = "FactorsFromSuggestedCategories", Level = LogLevel.Warning,
        Message = "The factor answer for user {UserId} could not be used ({Reason}); the factors were formed by rule from the categories suggested in stage 1.")]
    public static partial void FactorsFromSuggestedCategories(ILogger logger, string userId, string reason);

    [LoggerMessage(EventId = 2005, EventName = "FeaturesAssignedByRule", Level = LogLevel.Information,
        Message = "Factor construction for user {UserId} assigned {Assigned} features to factors by rule ({NotShown} were beyond the list sent to the model); {Unassigned} stay unassigned.")]
    public static partial void FeaturesAssignedByRule(ILogger logger, string userId, int assigned, int notShown, int unassigned);

    [LoggerMessage(EventId = 2006, EventName = "FactorsRebuilt", Level = LogLevel.Information,
        Message = "Adding {NewItems} items to the model of user {UserId} rebuilds its factors: {Unassigned} of {NewFeatures} new features fit no existing factor (more than {Threshold:P0}).")]
    public static partial void FactorsRebuilt(ILogger logger, int newItems, string userId, int unassigned, int newFeatures, double threshold);

    // 3xxx: responses.
    [LoggerMessage(EventId = 3001, EventName = "Fallback", Level = LogLevel.Warning,
        Message = "The response to query {QueryId} of user {UserId} was made without the chat model, which failed at {Stage}: {Reason}")]
    public static partial void Fallback(ILogger logger, string queryId, string userId, string stage, string reason);

    // 30xx also: live turns (4xxx belongs to the PostgreSQL build queue).
    [LoggerMessage(EventId = 3002, EventName = "PersonalizationFailed", Level = LogLevel.Warning,
        Message = "A turn of user {UserId} goes to the chat model unpersonalized: {Reason}")]
    public static partial void PersonalizationFailed(ILogger logger, string userId, string reason);

    [LoggerMessage(EventId = 3003, EventName = "PersonalizationDegraded", Level = LogLevel.Information,
        Message = "A turn of user {UserId} is personalized by its message instead of its features: {Reason}")]
    public static partial void PersonalizationDegraded(ILogger logger, string userId, string reason);
}
