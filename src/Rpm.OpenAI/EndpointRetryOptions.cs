using System.Globalization;

namespace Rpm;

/// <summary>
/// One retry profile of an endpoint (<see cref="OpenAIEndpointOptions.Build"/>, <see cref="OpenAIEndpointOptions.Interactive"/>):
/// how often, after how long and for how long a call is retried after a transient failure (429 within
/// <see cref="RetryAfterCap"/>, 408, 500, 502, 503, 504, 52x, a refused or dropped connection, an attempt over
/// <see cref="AttemptTimeout"/>). Create one with <see cref="CreateBuildDefaults"/> or <see cref="CreateInteractiveDefaults"/>.
/// </summary>
public sealed class EndpointRetryOptions
{
    private const int MaxRetryAttemptsLimit = 100;

    // Polly's own limits for a retry delay and an attempt timeout (RetryStrategyOptions, TimeoutStrategyOptions).
    private static readonly TimeSpan LongestDelay = TimeSpan.FromDays(1);
    private static readonly TimeSpan ShortestTimeout = TimeSpan.FromMilliseconds(10);

    private EndpointRetryOptions(int maxRetryAttempts, TimeSpan retryBaseDelay, TimeSpan maxRetryDelay, TimeSpan attemptTimeout, TimeSpan retryAfterCap)
    {
        MaxRetryAttempts = maxRetryAttempts;
        RetryBaseDelay = retryBaseDelay;
        MaxRetryDelay = maxRetryDelay;
        AttemptTimeout = attemptTimeout;
        RetryAfterCap = retryAfterCap;
    }

    /// <summary>
    /// Gets or sets how many times a call is retried after a transient failure; 0 for one attempt only. Between 0 and 100.
    /// Default 8 for a build, 2 for an interactive call.
    /// </summary>
    public int MaxRetryAttempts { get; set; }

    /// <summary>
    /// Gets or sets the first backoff after a server error, a connection failure or an attempt timeout; each retry doubles
    /// it, with jitter over its upper half, up to <see cref="MaxRetryDelay"/>. Positive. Default 2 seconds for a build, 1 second for an interactive call.
    /// </summary>
    public TimeSpan RetryBaseDelay { get; set; }

    /// <summary>
    /// Gets or sets the longest single backoff (not counting a <c>Retry-After</c> wait, which <see cref="RetryAfterCap"/> bounds).
    /// At least <see cref="RetryBaseDelay"/>, at most one day. Default 30 seconds for a build, 4 seconds for an interactive call.
    /// </summary>
    public TimeSpan MaxRetryDelay { get; set; }

    /// <summary>
    /// Gets or sets how long one attempt may take, until the response's headers arrive, before it is abandoned (and
    /// retried, if retries are left). Between 10 milliseconds and one day. Default 5 minutes for a build (reasoning models
    /// can be slow), 60 seconds for an interactive call.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; }

    /// <summary>
    /// Gets or sets the longest <c>Retry-After</c> (or <c>retry-after-ms</c>) wait a rate-limited (429) call honours. A
    /// server that asks for more fails the call at once with <see cref="RpmRateLimitedException"/>, rather than stalling
    /// the caller. Between zero and one day. Default 60 seconds for a build, 5 seconds for an interactive call.
    /// </summary>
    public TimeSpan RetryAfterCap { get; set; }

    /// <summary>
    /// Creates the patient profile a build or update of a user model gets by default: 8 retries, backoff from 2 seconds
    /// doubling to 30 seconds, a 5-minute attempt timeout, <c>Retry-After</c> honoured up to 60 seconds. Every outage of up
    /// to 30 seconds is ridden out, most up to about two minutes.
    /// </summary>
    /// <returns>A new instance with the build defaults.</returns>
    public static EndpointRetryOptions CreateBuildDefaults() =>
        new(8, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(60));

    /// <summary>
    /// Creates the profile every other call gets by default (a chat turn, an agent run, a query in a web request): 2
    /// retries, backoff from 1 second doubling to at most 4 seconds, a 60-second attempt timeout, <c>Retry-After</c>
    /// honoured up to 5 seconds. A blip (a dropped connection, one 503 during a deploy) is ridden out; a down endpoint
    /// fails the call within about 3 seconds with the endpoint's reason.
    /// </summary>
    /// <returns>A new instance with the interactive defaults.</returns>
    public static EndpointRetryOptions CreateInteractiveDefaults() =>
        new(2, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5));

    /// <summary>Creates a copy of this profile, e.g. to give the interactive profile the build's values.</summary>
    /// <returns>A new instance with the same values.</returns>
    public EndpointRetryOptions Clone() => new(MaxRetryAttempts, RetryBaseDelay, MaxRetryDelay, AttemptTimeout, RetryAfterCap);

    /// <summary>Adds one message per invalid knob, each naming it as <c>{profile}.{knob}</c>.</summary>
    internal void Validate(string profile, List<string> errors)
    {
        if (MaxRetryAttempts is < 0 or > MaxRetryAttemptsLimit)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{profile}.{nameof(MaxRetryAttempts)} must be between 0 and {MaxRetryAttemptsLimit} (was {MaxRetryAttempts})."));
        }

        if (RetryBaseDelay <= TimeSpan.Zero)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{profile}.{nameof(RetryBaseDelay)} must be positive (was {RetryBaseDelay})."));
        }

        if (MaxRetryDelay < RetryBaseDelay || MaxRetryDelay > LongestDelay)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{profile}.{nameof(MaxRetryDelay)} must be at least {profile}.{nameof(RetryBaseDelay)} ({RetryBaseDelay}) and at most one day (was {MaxRetryDelay})."));
        }

        if (AttemptTimeout < ShortestTimeout || AttemptTimeout > LongestDelay)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{profile}.{nameof(AttemptTimeout)} must be between 10 ms and one day (was {AttemptTimeout})."));
        }

        if (RetryAfterCap < TimeSpan.Zero || RetryAfterCap > LongestDelay)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{profile}.{nameof(RetryAfterCap)} must be between zero and one day (was {RetryAfterCap})."));
        }
    }
}
