namespace Rpm.Cli;

/// <summary>Where the chat (and optionally the embedding) model is: any OpenAI-compatible URL, a model name and an optional key.</summary>
/// <param name="Endpoint">The chat endpoint's base URL (e.g. <c>http://localhost:11434/v1</c>), or null when none is given.</param>
/// <param name="Model">The chat model's name.</param>
/// <param name="ApiKey">The API key, if any.</param>
/// <param name="EmbeddingEndpoint">The embedding endpoint, or null for the local MiniLM model.</param>
/// <param name="EmbeddingModel">The embedding model's name at that endpoint.</param>
public sealed record EndpointSettings(Uri? Endpoint, string Model, string? ApiKey, Uri? EmbeddingEndpoint, string EmbeddingModel)
{
    /// <summary>Gets the longest Retry-After wait honoured on a 429 (a longer one fails the call), in both retry profiles. Default 60 s.</summary>
    public TimeSpan RetryAfterCap { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets a value indicating whether schemas are sent strictly (off with --no-strict); the test request does as the run will.</summary>
    public bool Strict { get; init; } = true;

    /// <summary>Gets how many times a failed call is retried, in both retry profiles (the one-line test request uses 1, so that a down server is reported quickly with its reason).</summary>
    public int MaxRetryAttempts { get; init; } = 8;

    /// <summary>The endpoint used when only an API key is given.</summary>
    public static readonly Uri OpenAIEndpoint = new("https://api.openai.com/v1");

    /// <summary>How to enable the model methods, printed when none is reachable.</summary>
    public const string HowToEnable =
        "To run them, point rpm at any OpenAI-compatible endpoint, with options or environment variables:\n" +
        "  Ollama:    RPM_ENDPOINT=http://localhost:11434/v1 RPM_MODEL=llama3.1\n" +
        "  OpenAI:    RPM_API_KEY=sk-... RPM_MODEL=gpt-4o-mini\n" +
        "  vLLM / llama.cpp server: RPM_ENDPOINT=http://host:8000/v1 RPM_MODEL=<served model name>\n" +
        "  or: --endpoint URL --model NAME [--api-key KEY]";

    /// <summary>Resolves the settings from options first, then environment variables (RPM_ENDPOINT, RPM_MODEL, RPM_API_KEY, RPM_EMBEDDING_ENDPOINT, RPM_EMBEDDING_MODEL).</summary>
    /// <param name="endpoint">The --endpoint option.</param>
    /// <param name="model">The --model option.</param>
    /// <param name="apiKey">The --api-key option.</param>
    /// <param name="embeddingEndpoint">The --embedding-endpoint option.</param>
    /// <param name="embeddingModel">The --embedding-model option.</param>
    /// <param name="environment">Reads an environment variable.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="ArgumentException">A URL is not an absolute http(s) URL.</exception>
    public static EndpointSettings Resolve(string? endpoint, string? model, string? apiKey, string? embeddingEndpoint, string? embeddingModel, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? key = First(apiKey, environment("RPM_API_KEY"));
        string? url = First(endpoint, environment("RPM_ENDPOINT"));
        Uri? chat = url is not null ? Parse(url, "--endpoint / RPM_ENDPOINT") : key is not null ? OpenAIEndpoint : null;
        string? embeddingUrl = First(embeddingEndpoint, environment("RPM_EMBEDDING_ENDPOINT"));
        return new EndpointSettings(
            chat,
            First(model, environment("RPM_MODEL")) ?? "gpt-4o-mini",
            key,
            embeddingUrl is null ? null : Parse(embeddingUrl, "--embedding-endpoint / RPM_EMBEDDING_ENDPOINT"),
            First(embeddingModel, environment("RPM_EMBEDDING_MODEL")) ?? "text-embedding-3-small");
    }

    private static string? First(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();

    private static Uri Parse(string url, string source) =>
        Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new ArgumentException($"{source}: '{url}' is not an http(s) URL; e.g. http://localhost:11434/v1.");
}
