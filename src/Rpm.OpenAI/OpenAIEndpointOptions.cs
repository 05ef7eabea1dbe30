namespace Rpm;

/// <summary>
/// Where an OpenAI-compatible chat endpoint is, and how its transient failures are ridden out: a patient
/// <see cref="Build"/> profile for the calls of a build or update, an <see cref="Interactive"/> one for every other call,
/// and no retries for a call that personalizes a live turn, chosen per call (<see cref="EndpointResilience.CurrentProfile"/>).
/// </summary>
public sealed class OpenAIEndpointOptions
{
    /// <summary>Gets or sets the endpoint's base URL, e.g. <c>http://localhost:11434/v1</c>. Default OpenAI's, <c>https://api.openai.com/v1</c>.</summary>
    public Uri Endpoint { get; set; } = new("https://api.openai.com/v1");

    /// <summary>Gets or sets the API key; local servers usually need none.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the model's name as the endpoint serves it.</summary>
    public string Model { get; set; } = "gpt-4o-mini";

    /// <summary>
    /// Gets or sets the patient retry profile of the calls made inside a build or an update of a user model
    /// (marked by RPM): background work that should ride out an outage. Default
    /// <see cref="EndpointRetryOptions.CreateBuildDefaults"/>: 8 retries, backoff from 2 s doubling to 30 s, a 5-minute
    /// attempt timeout, <c>Retry-After</c> honoured up to 60 s.
    /// </summary>
    public EndpointRetryOptions Build { get; set; } = EndpointRetryOptions.CreateBuildDefaults();

    /// <summary>
    /// Gets or sets the retry profile of every other call (a chat turn, an agent run, <c>RpmPipeline.RespondAsync</c> in
    /// a web request): someone is waiting for the answer, so a down endpoint should fail the call within seconds with its
    /// reason. Its <see cref="EndpointRetryOptions.AttemptTimeout"/> also bounds the single attempt of a call that
    /// personalizes a live turn (marked by RPM), which is never retried. Default
    /// <see cref="EndpointRetryOptions.CreateInteractiveDefaults"/>: 2 retries, backoff from 1 s doubling to at most 4 s, a
    /// 60-second attempt timeout, <c>Retry-After</c> honoured up to 5 s. For batch work outside a build (an evaluation
    /// run), set it to the build's values: <c>o.Interactive = o.Build.Clone()</c>.
    /// </summary>
    public EndpointRetryOptions Interactive { get; set; } = EndpointRetryOptions.CreateInteractiveDefaults();

    /// <summary>
    /// Gets or sets a callback told of every retry, whichever profile makes it (<see cref="EndpointRetry.Profile"/>),
    /// before its wait, e.g. to show "rate limited, retrying in 12 s".
    /// </summary>
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

        ValidateProfile(Build, nameof(Build), errors);
        ValidateProfile(Interactive, nameof(Interactive), errors);
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid OpenAIEndpointOptions: " + string.Join(" ", errors));
        }
    }

    /// <summary>Gets the retry settings of a profile; <see cref="EndpointRetryProfile.Personalization"/> is <see cref="Interactive"/> with no retries.</summary>
    /// <param name="profile">The profile.</param>
    internal EndpointRetryOptions For(EndpointRetryProfile profile)
    {
        switch (profile)
        {
            case EndpointRetryProfile.Build:
                return Build;
            case EndpointRetryProfile.Personalization:
                EndpointRetryOptions once = Interactive.Clone();
                once.MaxRetryAttempts = 0;
                return once;
            default:
                return Interactive;
        }
    }

    private static void ValidateProfile(EndpointRetryOptions? profile, string name, List<string> errors)
    {
        if (profile is null)
        {
            errors.Add($"{name} must be set (e.g. EndpointRetryOptions.Create{name}Defaults()).");
            return;
        }

        profile.Validate(name, errors);
    }
}
