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

    /// <summary>
    /// Gets or sets how long to wait between two polls of a batch in progress; default 1 minute. Each poll of a batch that
    /// has not ended is logged (event 7001) and reported to <see cref="OpenAIBatchBuilder.BuildAsync(RpmPipeline, IAsyncEnumerable{BatchUser}, IProgress{BatchWaveProgress}?, CancellationToken)"/>'s progress
    /// (<see cref="BatchWaveProgress.Polled"/>), so at most once per interval per batch.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets the longest a batch is waited for, counted from its creation (the batch's <c>created_at</c>; for a
    /// server that gives none, from the first poll of this process); default 25 hours: OpenAI's completion window of 24
    /// hours (<c>completion_window</c>, the only value the Batch API accepts, https://platform.openai.com/docs/guides/batch)
    /// plus an hour for a batch to move to <c>expired</c> and write its output. A batch still not ended then is cancelled
    /// (<c>POST /v1/batches/{id}/cancel</c>); the answers it has are kept exactly as an expired batch's, its other requests go
    /// again in the next wave (counted against <see cref="MaxSubmissions"/>), and the build names it in
    /// <see cref="BatchBuildResult.TimedOutBatchIds"/>. It also bounds how long an enqueued-token limit is waited out
    /// (<see cref="TokenLimitRetryDelay"/>). Positive.
    /// </summary>
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromHours(25);

    /// <summary>
    /// Gets or sets the first wait before requests refused by a limit that asks for patience go again: a batch OpenAI failed
    /// with <c>token_limit_exceeded</c> ("Enqueued token limit reached ... Please try again once some in_progress batches
    /// have been completed", openai/openai-python#2084), or a batch creation still answered 429 after its
    /// <c>Retry-After</c> waits. Such a refusal does not count against <see cref="MaxSubmissions"/>. When a batch of the
    /// same round ended (freeing the queue) the requests go again at once; otherwise each refused round in a row doubles
    /// the wait, with jitter over its upper half (as OpenAI's rate-limit guide advises), up to
    /// <see cref="TokenLimitMaxRetryDelay"/>. After <see cref="MaxBatchWait"/> of refusals in a row without any batch
    /// ending, they count again, so a batch larger than the organization's whole queue fails its users with the
    /// server's words. Default 1 minute; positive.
    /// </summary>
    public TimeSpan TokenLimitRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the longest single wait of <see cref="TokenLimitRetryDelay"/>'s backoff; default 30 minutes; at least <see cref="TokenLimitRetryDelay"/>.</summary>
    public TimeSpan TokenLimitMaxRetryDelay { get; set; } = TimeSpan.FromMinutes(30);

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

    /// <summary>
    /// Gets or sets how many users a build holds at once (its window): users are pulled from
    /// <see cref="OpenAIBatchBuilder.BuildAsync(RpmPipeline, IAsyncEnumerable{BatchUser}, IProgress{BatchWaveProgress}?, CancellationToken)"/>'s
    /// stream only as earlier ones are built or fail, so the builder's memory follows this number, not the number of users.
    /// Default 1,000: with the paper's settings (one call per history item in the first stage) 1,000 users of 50 items
    /// ask 50,000 requests in their first wave, exactly one batch input file (OpenAI: "up to 50,000 requests, and can be
    /// up to 200 MB in size", POST /v1/batches, https://platform.openai.com/docs/api-reference/batch/create); a smaller
    /// window sends smaller batches, so more 24-hour turns for the same users, a larger one only more batches per wave.
    /// Between 1 and 1,000,000.
    /// </summary>
    public int MaxUsersInMemory { get; set; } = 1_000;

    /// <summary>
    /// Gets or sets a value indicating whether the answers of built users stay in <see cref="StatePath"/>; default
    /// <see langword="false"/>: when a user's model is saved, the answers no user still to build asked for (none of a
    /// user in the window, none of a failed user) are deleted with their submission records, and the file's free pages
    /// are given back (SQLite incremental auto-vacuum), so the file holds the answers of at most
    /// <see cref="MaxUsersInMemory"/> users plus, per built user, its id (in the <c>users</c> table and its index: about
    /// twice the id's length plus 15 bytes). <see langword="true"/> keeps every answer, for audit: a model later deleted
    /// from the store is then rebuilt from them without paying again, where a compacted file pays for that user's
    /// requests again.
    /// </summary>
    public bool KeepAnswersForAudit { get; set; }

    /// <summary>Gets or sets the clock the polling, the backoffs and the batches' ages run on (a fake one in tests).</summary>
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

        if (MaxBatchWait <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(MaxBatchWait)} must be positive (was {MaxBatchWait}; default 25 hours, OpenAI's 24-hour completion window plus a margin).");
        }

        if (TokenLimitRetryDelay <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(TokenLimitRetryDelay)} must be positive (was {TokenLimitRetryDelay}).");
        }
        else if (TokenLimitMaxRetryDelay < TokenLimitRetryDelay)
        {
            errors.Add($"{nameof(TokenLimitMaxRetryDelay)} must be at least {nameof(TokenLimitRetryDelay)} ({TokenLimitRetryDelay}; was {TokenLimitMaxRetryDelay}).");
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

        if (MaxUsersInMemory is < 1 or > 1_000_000)
        {
            errors.Add($"{nameof(MaxUsersInMemory)} must be between 1 and 1,000,000 (was {MaxUsersInMemory}; default 1,000, one full batch file of 50-item users).");
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
