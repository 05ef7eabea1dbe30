using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>The endpoint transport's log events (category <c>Rpm.EndpointResilience</c>), source-generated; ids 5xxx.</summary>
internal static partial class EndpointLog
{
    [LoggerMessage(EventId = 5001, EventName = "EndpointRetry", Level = LogLevel.Warning,
        Message = "A call to {Endpoint} is retried by the {Profile} profile ({Reason}, HTTP status {StatusCode}): retry {Attempt} of {MaxAttempts} after {Delay}.")]
    public static partial void Retry(ILogger logger, string endpoint, EndpointRetryProfile profile, EndpointRetryReason reason, int? statusCode, int attempt, int maxAttempts, TimeSpan delay);
}
