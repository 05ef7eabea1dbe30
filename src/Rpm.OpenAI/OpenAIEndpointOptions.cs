namespace Rpm;

/// <summary>Where an OpenAI-compatible chat endpoint is, and how its transient failures are ridden out.</summary>
public sealed class OpenAIEndpointOptions
{
    /// <summary>Gets or sets the endpoint's base URL, e.g. <c>http://localhost:11434/v1</c>. Default OpenAI's, <c>https://api.openai.com/v1</c>.</summary>
    public Uri Endpoint { get; set; } = new("https://api.openai.com/v1");

    /// <summary>Gets or sets the API key; local servers usually need none.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the model's name as the endpoint serves it.</summary>
    public string Model { get; set; } = "gpt-4o-mini";

    /// <summary>
    /// Gets or sets the longest <c>Retry-After</c> (or <c>retry-after-ms</c>) wait a rate-limited (429) call honours.
    /// A server that asks for more fails the call at once with <see cref="RpmRateLimitedException"/>, rather than
    /// stalling a run for an hour. Default 60 seconds.
    /// </summary>
    public TimeSpan RetryAfterCap { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets how many times a call is retried after a transient failure (429 within the cap, 408, 500, 502, 503,
    /// 504, 52x, a refused or dropped connection, an attempt timeout). Default 8.
    /// </summary>
    public int MaxRetryAttempts { get; set; } = 8;

    /// <summary>
    /// Gets or sets the first backoff after a server error or connection failure; each retry doubles it, with jitter,
    /// up to <see cref="MaxRetryDelay"/>. With the defaults (2 s, 30 s, 8 retries) a call rides out an outage of about
    /// two minutes; the first 30 seconds are always covered.
    /// </summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets the longest single backoff. Default 30 seconds.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long one attempt may take before it is abandoned and retried. Default 5 minutes (reasoning models can be slow).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets a callback told of every retry before its wait, e.g. to show "rate limited, retrying in 12 s".</summary>
    public Action<EndpointRetry>? OnRetry { get; set; }

    /// <summary>Checks every option and throws one exception that names each invalid one.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (Endpoint is null || !Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{nameof(Endpoint)} must be an absolute http(s) URL, e.g. http://localhost:11434/v1 (was '{Endpoint}').");
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            errors.Add($"{nameof(Model)} must name the model the endpoint serves.");
        }

        if (RetryAfterCap < TimeSpan.Zero)
        {
            errors.Add($"{nameof(RetryAfterCap)} must not be negative.");
        }

        if (MaxRetryAttempts is < 0 or > 100)
        {
            errors.Add($"{nameof(MaxRetryAttempts)} must be between 0 and 100 (was {MaxRetryAttempts}).");
        }

        if (RetryBaseDelay <= TimeSpan.Zero || MaxRetryDelay < RetryBaseDelay)
        {
            errors.Add($"{nameof(RetryBaseDelay)} must be positive and at most {nameof(MaxRetryDelay)}.");
        }

        if (AttemptTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(AttemptTimeout)} must be positive.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid OpenAIEndpointOptions: " + string.Join(" ", errors));
        }
    }
}
