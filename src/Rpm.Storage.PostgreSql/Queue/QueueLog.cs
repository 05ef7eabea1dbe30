using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>
/// The build queue's log events (category <c>Rpm.PostgresBuildQueue</c>), source-generated; ids 4xxx, after Rpm.Core's
/// 1xxx to 3xxx. User ids in them follow <see cref="PostgresBuildQueueOptions.EmitRawUserIds"/>.
/// </summary>
internal static partial class QueueLog
{
    [LoggerMessage(EventId = 4001, EventName = "JobClaimed", Level = LogLevel.Information,
        Message = "Worker {Worker} claimed the build of user {UserId} (generation {Generation}, {PreviousAttempts} failed attempts before).")]
    public static partial void JobClaimed(ILogger logger, string worker, string userId, long generation, int previousAttempts);

    [LoggerMessage(EventId = 4002, EventName = "JobCompleted", Level = LogLevel.Information,
        Message = "Worker {Worker} completed the build of user {UserId} (generation {Generation}): model version {ModelVersion}.")]
    public static partial void JobCompleted(ILogger logger, string worker, string userId, long generation, long modelVersion);

    [LoggerMessage(EventId = 4003, EventName = "JobSuperseded", Level = LogLevel.Information,
        Message = "Worker {Worker} completed generation {Generation} of the build of user {UserId}, which was enqueued again meanwhile: the newer job stays pending.")]
    public static partial void JobSuperseded(ILogger logger, string worker, long generation, string userId);

    [LoggerMessage(EventId = 4004, EventName = "JobRetryScheduled", Level = LogLevel.Warning,
        Message = "The build of user {UserId} (generation {Generation}) failed on attempt {Attempt} of {MaxAttempts} and is retried after {RetryDelay}: {ErrorType}: {Error}")]
    public static partial void JobRetryScheduled(ILogger logger, string userId, long generation, int attempt, int maxAttempts, TimeSpan retryDelay, string errorType, string error);

    [LoggerMessage(EventId = 4005, EventName = "JobFailed", Level = LogLevel.Error,
        Message = "The build of user {UserId} (generation {Generation}) failed for good after {Attempts} attempts (permanent error: {Permanent}): {ErrorType}: {Error}")]
    public static partial void JobFailed(ILogger logger, string userId, long generation, int attempts, bool permanent, string errorType, string error);

    [LoggerMessage(EventId = 4006, EventName = "ClaimReleased", Level = LogLevel.Debug,
        Message = "Worker {Worker} released its claim on user {UserId}.")]
    public static partial void ClaimReleased(ILogger logger, string worker, string userId);

    [LoggerMessage(EventId = 4007, EventName = "JobAlreadyCovered", Level = LogLevel.Information,
        Message = "The stored model of user {UserId} (version {ModelVersion}) already covers generation {Generation} of its build job: completed without model calls.")]
    public static partial void JobAlreadyCovered(ILogger logger, string userId, long modelVersion, long generation);

    [LoggerMessage(EventId = 4008, EventName = "ConnectionLost", Level = LogLevel.Warning,
        Message = "Worker {Worker} lost the PostgreSQL server at {Server}: {Reason}. Its claims ended with their connections; the jobs stay pending and resume from their checkpoints.")]
    public static partial void ConnectionLost(ILogger logger, string worker, string server, string reason);

    [LoggerMessage(EventId = 4009, EventName = "ReconnectScheduled", Level = LogLevel.Warning,
        Message = "Worker {Worker} cannot reach the PostgreSQL server at {Server} ({Reason}); reconnection attempt {Attempt} in {Delay}.")]
    public static partial void ReconnectScheduled(ILogger logger, string worker, string server, string reason, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 4010, EventName = "Reconnected", Level = LogLevel.Information,
        Message = "Worker {Worker} is connected to the PostgreSQL server at {Server} again and resumes claiming.")]
    public static partial void Reconnected(ILogger logger, string worker, string server);

    [LoggerMessage(EventId = 4011, EventName = "ClaimLost", Level = LogLevel.Warning,
        Message = "Worker {Worker} lost its claim on user {UserId} (generation {Generation}) with its connection ({Reason}): the build stopped and resumes from its checkpoints once the user is claimed again.")]
    public static partial void ClaimLost(ILogger logger, string worker, string userId, long generation, string reason);

    [LoggerMessage(EventId = 4012, EventName = "JobErased", Level = LogLevel.Information,
        Message = "Worker {Worker} stopped the build of user {UserId} (generation {Generation}): the user was erased meanwhile, so the build saves nothing.")]
    public static partial void JobErased(ILogger logger, string worker, string userId, long generation);
}
