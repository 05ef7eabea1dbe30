namespace Rpm;

/// <summary>What <c>GET /v1/batches/{id}</c> says about a batch.</summary>
internal sealed record BatchInfo(string Id, string Status, string? InputFileId, string? OutputFileId, string? ErrorFileId, string? Errors)
{
    /// <summary>Gets when the batch was created (its <c>created_at</c>, the server's clock), if said.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>Gets how many of its requests have been answered so far (<c>request_counts.completed</c>).</summary>
    public int RequestsCompleted { get; init; }

    /// <summary>Gets how many of its requests have failed so far (<c>request_counts.failed</c>).</summary>
    public int RequestsFailed { get; init; }

    /// <summary>Gets how many requests it holds (<c>request_counts.total</c>).</summary>
    public int RequestsTotal { get; init; }

    /// <summary>Gets a value indicating whether the batch will change no more (completed, failed, expired or cancelled).</summary>
    public bool IsTerminal => Status is "completed" or "failed" or "expired" or "cancelled";

    /// <summary>
    /// Gets a value indicating whether the batch failed only because the organization's queue was full: OpenAI fails it at
    /// once with <c>token_limit_exceeded</c>, "Enqueued token limit reached for {model} ... Please try again once some
    /// in_progress batches have been completed." (reported in openai/openai-python#2084). Nothing in it was wrong.
    /// </summary>
    public bool IsTokenLimited =>
        Status == "failed" && Errors is { } errors
        && (errors.Contains("token_limit_exceeded", StringComparison.OrdinalIgnoreCase) || errors.Contains("Enqueued token limit", StringComparison.OrdinalIgnoreCase));
}
