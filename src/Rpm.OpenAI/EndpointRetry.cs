using System.Globalization;

namespace Rpm;

/// <summary>Why a call to the endpoint is being retried.</summary>
public enum EndpointRetryReason
{
    /// <summary>The endpoint answered 429 and a wait within the cap.</summary>
    RateLimited,

    /// <summary>The endpoint answered a server error (408, 5xx).</summary>
    ServerError,

    /// <summary>The connection was refused or dropped.</summary>
    ConnectionFailure,

    /// <summary>An attempt took longer than its profile's <see cref="EndpointRetryOptions.AttemptTimeout"/>.</summary>
    Timeout,
}

/// <summary>A retry about to happen: why, after how long, which attempt comes next, and which retry profile makes it.</summary>
/// <param name="Reason">Why.</param>
/// <param name="Delay">The wait before the next attempt.</param>
/// <param name="Attempt">The retry's number, from 1.</param>
/// <param name="MaxAttempts">The most retries (the profile's <see cref="EndpointRetryOptions.MaxRetryAttempts"/>).</param>
/// <param name="StatusCode">The HTTP status that caused it, if any.</param>
/// <param name="Profile">The retry profile of the call (<see cref="EndpointRetryProfile.Build"/> or <see cref="EndpointRetryProfile.Interactive"/>; a personalization's call is never retried).</param>
public sealed record EndpointRetry(EndpointRetryReason Reason, TimeSpan Delay, int Attempt, int MaxAttempts, int? StatusCode, EndpointRetryProfile Profile)
{
    /// <summary>Describes the retry for a progress line, e.g. <c>rate limited, retrying in 12 s (retry 1 of 8, build profile)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        string why = Reason switch
        {
            EndpointRetryReason.RateLimited => "rate limited",
            EndpointRetryReason.ServerError => string.Create(CultureInfo.InvariantCulture, $"server error {StatusCode}"),
            EndpointRetryReason.ConnectionFailure => "endpoint unreachable",
            _ => "no answer in time",
        };
        return string.Create(CultureInfo.InvariantCulture, $"{why}, retrying in {Math.Max(1, (int)Math.Ceiling(Delay.TotalSeconds))} s (retry {Attempt} of {MaxAttempts}, {EndpointResilience.PipelineKey(Profile)} profile)");
    }
}
