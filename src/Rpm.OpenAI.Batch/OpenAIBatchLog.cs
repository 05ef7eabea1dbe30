using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>A batch build's log events (category <c>Rpm.OpenAIBatchBuilder</c>), source-generated; ids 7xxx.</summary>
internal static partial class OpenAIBatchLog
{
    [LoggerMessage(EventId = 7001, EventName = "BatchWaiting", Level = LogLevel.Information,
        Message = "Batch {BatchId} is {Status} after {Age}: {Completed} of {Total} requests answered, {Failed} failed; polled again in {PollInterval} (cancelled after {MaxWait}).")]
    public static partial void Waiting(ILogger logger, string batchId, string status, TimeSpan age, int completed, int total, int failed, TimeSpan pollInterval, TimeSpan maxWait);

    [LoggerMessage(EventId = 7002, EventName = "BatchTimedOut", Level = LogLevel.Warning,
        Message = "Batch {BatchId} is still {Status} after {Age}, more than MaxBatchWait ({MaxWait}): cancelling it; the {Completed} answers it has are kept and the rest go again.")]
    public static partial void TimedOut(ILogger logger, string batchId, string status, TimeSpan age, TimeSpan maxWait, int completed);

    [LoggerMessage(EventId = 7003, EventName = "BatchCancelStuck", Level = LogLevel.Warning,
        Message = "Batch {BatchId} is still {Status} {Waited} after it was cancelled: no longer waited for; its unanswered requests go again.")]
    public static partial void CancelStuck(ILogger logger, string batchId, string status, TimeSpan waited);

    [LoggerMessage(EventId = 7004, EventName = "BatchQueueFull", Level = LogLevel.Warning,
        Message = "{Requests} requests were refused by OpenAI's limit ({Reason}); sent again in {Delay} (wait {Round} in a row), not counted against MaxSubmissions.")]
    public static partial void QueueFull(ILogger logger, int requests, string reason, TimeSpan delay, int round);

    [LoggerMessage(EventId = 7005, EventName = "BatchApiRateLimited", Level = LogLevel.Warning,
        Message = "OpenAI answered 429 when {What}: retry {Attempt} of {MaxAttempts} after {Delay} (Retry-After given: {RetryAfterGiven}).")]
    public static partial void RateLimited(ILogger logger, string what, TimeSpan delay, bool retryAfterGiven, int attempt, int maxAttempts);
}
