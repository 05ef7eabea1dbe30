using System.Globalization;
using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Timeout;

namespace Rpm;

/// <summary>
/// The transport resilience of an endpoint, built from Microsoft.Extensions.Http.Resilience (Polly): a retry that honours
/// <c>Retry-After</c> up to <see cref="OpenAIEndpointOptions.RetryAfterCap"/> and backs off exponentially with jitter
/// after server errors and connection failures, around a per-attempt timeout.
/// </summary>
public static class EndpointResilience
{
    /// <summary>The name of the resilience pipeline on the HTTP client (for <c>AddResilienceHandler</c>).</summary>
    public const string PipelineName = "rpm-endpoint";

    /// <summary>Adds the retry and the attempt timeout to a pipeline, e.g. inside <c>AddResilienceHandler</c>.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The endpoint options; validated here.</param>
    /// <param name="loggerFactory">Where each retry is logged (event 5001, category <c>Rpm.EndpointResilience</c>); <see langword="null"/> for nowhere.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public static ResiliencePipelineBuilder<HttpResponseMessage> AddRpmEndpointResilience(
        this ResiliencePipelineBuilder<HttpResponseMessage> builder, OpenAIEndpointOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ILogger logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(typeof(EndpointResilience));
        int maxAttempts = options.MaxRetryAttempts;
        if (maxAttempts > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = maxAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryAfterCap > options.MaxRetryDelay ? options.RetryAfterCap : options.MaxRetryDelay,
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ShouldRetryAsync(args.Outcome, options),
                DelayGenerator = args => new ValueTask<TimeSpan?>(NextDelay(args.Outcome, args.AttemptNumber, options)),
                OnRetry = args =>
                {
                    var retry = new EndpointRetry(Reason(args.Outcome), args.RetryDelay, args.AttemptNumber + 1, maxAttempts, args.Outcome.Result is { } r ? (int)r.StatusCode : null);
                    EndpointLog.Retry(logger, options.Endpoint.Authority, retry.Reason, retry.StatusCode, retry.Attempt, retry.MaxAttempts, retry.Delay);
                    options.OnRetry?.Invoke(retry);
                    return default;
                },
            });
        }

        builder.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = options.AttemptTimeout });
        return builder;
    }

    /// <summary>Creates an HTTP handler that applies the resilience pipeline, for an <see cref="HttpClient"/> built without DI.</summary>
    /// <param name="options">The endpoint options.</param>
    /// <param name="innerHandler">The handler that sends requests; default a new <see cref="SocketsHttpHandler"/>.</param>
    /// <param name="loggerFactory">Where each retry is logged; <see langword="null"/> for nowhere.</param>
    /// <returns>The handler.</returns>
    public static DelegatingHandler CreateHandler(OpenAIEndpointOptions options, HttpMessageHandler? innerHandler = null, ILoggerFactory? loggerFactory = null)
    {
        ResiliencePipeline<HttpResponseMessage> pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>().AddRpmEndpointResilience(options, loggerFactory).Build();
        return new ResilienceHandler(pipeline) { InnerHandler = innerHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) } };
    }

    /// <summary>Reads how long a rate-limited response asks the client to wait: <c>retry-after-ms</c>, then <c>Retry-After</c> (seconds or a date).</summary>
    /// <param name="response">The response.</param>
    /// <returns>The wait, or <see langword="null"/> when the response names none.</returns>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
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

    private static async ValueTask<bool> ShouldRetryAsync(Outcome<HttpResponseMessage> outcome, OpenAIEndpointOptions options)
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

    private static TimeSpan? NextDelay(Outcome<HttpResponseMessage> outcome, int attempt, OpenAIEndpointOptions options)
    {
        if (outcome.Result is { } response && (int)response.StatusCode == 429 && RetryAfter(response) is TimeSpan wait)
        {
            return wait;
        }

        // Exponential backoff with full jitter over the upper half, capped: base * 2^attempt in [half, whole].
        double whole = Math.Min(options.MaxRetryDelay.TotalMilliseconds, options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds((whole / 2) + (Random.Shared.NextDouble() * whole / 2));
    }

    private static EndpointRetryReason Reason(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: TimeoutRejectedException } => EndpointRetryReason.Timeout,
        { Exception: not null } => EndpointRetryReason.ConnectionFailure,
        { Result.StatusCode: (HttpStatusCode)429 } => EndpointRetryReason.RateLimited,
        _ => EndpointRetryReason.ServerError,
    };
}
