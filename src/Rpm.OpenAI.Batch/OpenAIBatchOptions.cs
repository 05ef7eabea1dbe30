namespace Rpm;

/// <summary>How a batch build reaches OpenAI's Batch API, where it keeps its state, and its limits.</summary>
public sealed class OpenAIBatchOptions
{
    /// <summary>The most requests OpenAI accepts in one batch input file.</summary>
    public const int MaxRequestsPerBatchLimit = 50_000;

    /// <summary>The largest batch input file OpenAI accepts, in bytes (200 MB).</summary>
    public const long MaxBytesPerBatchLimit = 200L * 1000 * 1000;

    /// <summary>
    /// Gets or sets the endpoint, API key and model, exactly as for the synchronous client (<see cref="RpmOpenAI.CreateChatClient"/>):
    /// each batch line carries the request that client would send. Its build retry profile (<see cref="OpenAIEndpointOptions.Build"/>) applies to the Files and Batches calls.
    /// </summary>
    public OpenAIEndpointOptions Endpoint { get; set; } = new();

    /// <summary>
    /// Gets or sets the SQLite file that keeps every answer a batch returned, the batches in flight and the users built.
    /// Keep it until the build is done: a restarted build reads it to poll its batches instead of paying for them again.
    /// One file per build job.
    /// </summary>
    public string StatePath { get; set; } = "rpm-batch.db";

    /// <summary>Gets or sets how long to wait between two polls of a batch in progress; default 1 minute.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how many batches a request may be sent in before the users who need it are reported failed; default 3.
    /// A request goes again in the next wave when its batch expired, failed, was cancelled or was refused at creation, or when its line came back as an error.
    /// </summary>
    public int MaxSubmissions { get; set; } = 3;

    /// <summary>Gets or sets the most requests per batch; a wave with more is split; default and maximum 50,000.</summary>
    public int MaxRequestsPerBatch { get; set; } = MaxRequestsPerBatchLimit;

    /// <summary>Gets or sets the largest input file per batch in bytes; a wave with more is split; default and maximum 200 MB.</summary>
    public long MaxBytesPerBatch { get; set; } = MaxBytesPerBatchLimit;

    /// <summary>Gets or sets the batch's completion window; OpenAI accepts <c>24h</c>.</summary>
    public string CompletionWindow { get; set; } = "24h";

    /// <summary>Gets or sets how many users' builds run at once while a wave collects requests (they only read local answers); default 4.</summary>
    public int MaxConcurrentBuilds { get; set; } = 4;

    /// <summary>Gets or sets the clock the polling waits on (a fake one in tests).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks every option and throws one exception that names each invalid one.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (Endpoint is null)
        {
            errors.Add($"{nameof(Endpoint)} must be set.");
        }
        else
        {
            try
            {
                Endpoint.Validate();
            }
            catch (ArgumentException ex)
            {
                errors.Add(ex.Message);
            }
        }

        if (string.IsNullOrWhiteSpace(StatePath))
        {
            errors.Add($"{nameof(StatePath)} must name the SQLite file that keeps the batch build's answers.");
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(PollInterval)} must be positive (was {PollInterval}).");
        }

        if (MaxSubmissions is < 1 or > 100)
        {
            errors.Add($"{nameof(MaxSubmissions)} must be between 1 and 100 (was {MaxSubmissions}).");
        }

        if (MaxRequestsPerBatch is < 1 or > MaxRequestsPerBatchLimit)
        {
            errors.Add($"{nameof(MaxRequestsPerBatch)} must be between 1 and {MaxRequestsPerBatchLimit} (OpenAI's limit; was {MaxRequestsPerBatch}).");
        }

        if (MaxBytesPerBatch is < 1 or > MaxBytesPerBatchLimit)
        {
            errors.Add($"{nameof(MaxBytesPerBatch)} must be between 1 and {MaxBytesPerBatchLimit} bytes (OpenAI's 200 MB limit; was {MaxBytesPerBatch}).");
        }

        if (string.IsNullOrWhiteSpace(CompletionWindow))
        {
            errors.Add($"{nameof(CompletionWindow)} must be set (OpenAI accepts \"24h\").");
        }

        if (MaxConcurrentBuilds is < 1 or > 256)
        {
            errors.Add($"{nameof(MaxConcurrentBuilds)} must be between 1 and 256 (was {MaxConcurrentBuilds}).");
        }

        if (TimeProvider is null)
        {
            errors.Add($"{nameof(TimeProvider)} must be set.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid OpenAIBatchOptions: " + string.Join(" ", errors));
        }
    }
}
