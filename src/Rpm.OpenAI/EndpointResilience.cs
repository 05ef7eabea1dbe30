using System.Globalization;
using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Timeout;

namespace Rpm;

/// <summary>
/// The transport resilience of an endpoint, built from Microsoft.Extensions.Http.Resilience (Polly): per call, one of
/// three pipelines chosen by what the call belongs to (<see cref="CurrentProfile"/>), each a retry that honours
/// <c>Retry-After</c> up to the profile's <see cref="EndpointRetryOptions.RetryAfterCap"/> and backs off exponentially with
/// jitter after server errors and connection failures, around a per-attempt timeout.
/// </summary>
public static class EndpointResilience
{
    /// <summary>The name of the resilience pipeline on the HTTP client (for <c>AddResilienceHandler</c>).</summary>
    public const string PipelineName = "rpm-endpoint";

    private static readonly EndpointRetryProfile[] Profiles = Enum.GetValues<EndpointRetryProfile>();

    /// <summary>
    /// Gets the retry profile of a call made now, from the marks RPM puts on its own calls in the current asynchronous
    /// flow: <see cref="EndpointRetryProfile.Build"/> inside a build or update, else
    /// <see cref="EndpointRetryProfile.Personalization"/> while a live turn is personalized, else
    /// <see cref="EndpointRetryProfile.Interactive"/>. The handlers of
    /// <see cref="CreateHandler"/> and of <c>AddRpmOpenAIChatClient</c> select their pipeline by it for each request.
    /// </summary>
    public static EndpointRetryProfile CurrentProfile =>
        RpmStageCall.IsBuild ? EndpointRetryProfile.Build
        : RpmStageCall.IsPersonalizing ? EndpointRetryProfile.Personalization
        : EndpointRetryProfile.Interactive;

    /// <summary>Adds one profile's retry and attempt timeout to a pipeline, e.g. inside <c>AddResilienceHandler</c>.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The endpoint options; validated here.</param>
    /// <param name="profile">
    /// The profile: <see cref="OpenAIEndpointOptions.Build"/>'s or <see cref="OpenAIEndpointOptions.Interactive"/>'s
    /// settings, or for <see cref="EndpointRetryProfile.Personalization"/> the interactive attempt timeout with no retry.
    /// </param>
    /// <param name="loggerFactory">Where each retry is logged (event 5001, category <c>Rpm.EndpointResilience</c>); <see langword="null"/> for nowhere.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="profile"/> is not defined.</exception>
    public static ResiliencePipelineBuilder<HttpResponseMessage> AddRpmEndpointResilience(
        this ResiliencePipelineBuilder<HttpResponseMessage> builder, OpenAIEndpointOptions options, EndpointRetryProfile profile, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(profile))
        {
            throw new ArgumentOutOfRangeException(nameof(profile), profile, "Not a retry profile; use EndpointRetryProfile.Build, Interactive or Personalization.");
        }

        options.Validate();
        EndpointRetryOptions retry = options.For(profile);
        ILogger logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(typeof(EndpointResilience));
        int maxAttempts = retry.MaxRetryAttempts;
        if (maxAttempts > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = maxAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = retry.RetryBaseDelay,
                MaxDelay = retry.RetryAfterCap > retry.MaxRetryDelay ? retry.RetryAfterCap : retry.MaxRetryDelay,
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ShouldRetryAsync(args.Outcome, retry),
                DelayGenerator = args => new ValueTask<TimeSpan?>(NextDelay(args.Outcome, args.AttemptNumber, retry)),
                OnRetry = args =>
                {
                    var next = new EndpointRetry(Reason(args.Outcome), args.RetryDelay, args.AttemptNumber + 1, maxAttempts, args.Outcome.Result is { } r ? (int)r.StatusCode : null, profile);
                    EndpointLog.Retry(logger, options.Endpoint.Authority, profile, next.Reason, next.StatusCode, next.Attempt, next.MaxAttempts, next.Delay);
                    options.OnRetry?.Invoke(next);
                    return default;
                },
            });
        }

        builder.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = retry.AttemptTimeout });
        return builder;
    }

    /// <summary>
    /// Creates an HTTP handler that applies the resilience pipeline, for an <see cref="HttpClient"/> built without DI:
    /// Microsoft.Extensions.Http.Resilience's <see cref="ResilienceHandler"/> selecting, for each request, the pipeline of
    /// <see cref="CurrentProfile"/> (or always that of <paramref name="profile"/>).
    /// </summary>
    /// <param name="options">The endpoint options; validated here.</param>
    /// <param name="innerHandler">The handler that sends requests; default a new <see cref="SocketsHttpHandler"/>.</param>
    /// <param name="loggerFactory">Where each retry is logged; <see langword="null"/> for nowhere.</param>
    /// <param name="profile">One profile for every request (e.g. <see cref="EndpointRetryProfile.Build"/> for a client that only does batch work); <see langword="null"/> to choose per request.</param>
    /// <returns>The handler.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="profile"/> is not defined.</exception>
    public static DelegatingHandler CreateHandler(OpenAIEndpointOptions options, HttpMessageHandler? innerHandler = null, ILoggerFactory? loggerFactory = null, EndpointRetryProfile? profile = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (profile is { } given && !Enum.IsDefined(given))
        {
            throw new ArgumentOutOfRangeException(nameof(profile), given, "Not a retry profile; use EndpointRetryProfile.Build, Interactive or Personalization, or null to choose per request.");
        }

        var pipelines = new ResiliencePipeline<HttpResponseMessage>[Profiles.Length];
        foreach (EndpointRetryProfile each in Profiles)
        {
            pipelines[(int)each] = new ResiliencePipelineBuilder<HttpResponseMessage>().AddRpmEndpointResilience(options, each, loggerFactory).Build();
        }

        Func<HttpRequestMessage, ResiliencePipeline<HttpResponseMessage>> select = profile is { } fixedProfile
            ? _ => pipelines[(int)fixedProfile]
            : _ => pipelines[(int)CurrentProfile];
        return new ResilienceHandler(select) { InnerHandler = innerHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) } };
    }

    /// <summary>Reads how long a rate-limited response asks the client to wait: <c>retry-after-ms</c>, then <c>Retry-After</c> (seconds or a date).</summary>
    /// <param name="response">The response.</param>
    /// <returns>The wait, or <see langword="null"/> when the response names none.</returns>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.Headers.TryGetValues("retry-after-ms", out IEnumerable<string>? ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (response.Headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is TimeSpan delta)
            {
                return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
            }

            if (retryAfter.Date is DateTimeOffset date)
            {
                TimeSpan wait = date - DateTimeOffset.UtcNow;
                return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
            }
        }

        return null;
    }

    private static async ValueTask<bool> ShouldRetryAsync(Outcome<HttpResponseMessage> outcome, EndpointRetryOptions options)
    {
        if (outcome.Exception is { } exception)
        {
            return exception is HttpRequestException or TimeoutRejectedException;
        }

        if (outcome.Result is not { } response)
        {
            return false;
        }

        int status = (int)response.StatusCode;
        if (status == 429)
        {
            // A wait longer than the cap, or an exhausted quota, is not worth waiting for: the call fails at once.
            if (RetryAfter(response) is TimeSpan wait && wait > options.RetryAfterCap)
            {
                return false;
            }

            string body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            return !body.Contains("insufficient_quota", StringComparison.OrdinalIgnoreCase);
        }

        return response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout
            || status is >= 520 and <= 529;
    }

    private static TimeSpan? NextDelay(Outcome<HttpResponseMessage> outcome, int attempt, EndpointRetryOptions options)
    {
        if (outcome.Result is { } response && (int)response.StatusCode == 429 && RetryAfter(response) is TimeSpan wait)
        {
            return wait;
        }

        // Exponential backoff with full jitter over the upper half, capped: base * 2^attempt in [half, whole].
        double whole = Math.Min(options.MaxRetryDelay.TotalMilliseconds, options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds((whole / 2) + (Random.Shared.NextDouble() * whole / 2));
    }

    /// <summary>The key of a profile's pipeline (in Microsoft.Extensions.Http.Resilience's metrics and logs, and its pipeline registry).</summary>
    internal static string PipelineKey(EndpointRetryProfile profile) => profile switch
    {
        EndpointRetryProfile.Build => "build",
        EndpointRetryProfile.Personalization => "personalization",
        _ => "interactive",
    };

    private static EndpointRetryReason Reason(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: TimeoutRejectedException } => EndpointRetryReason.Timeout,
        { Exception: not null } => EndpointRetryReason.ConnectionFailure,
        { Result.StatusCode: (HttpStatusCode)429 } => EndpointRetryReason.RateLimited,
        _ => EndpointRetryReason.ServerError,
    };
}
