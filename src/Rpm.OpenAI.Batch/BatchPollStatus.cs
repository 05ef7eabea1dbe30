namespace Rpm;

/// <summary>Where one batch stands at a poll that found it not yet ended (reported in <see cref="BatchWaveProgress.Polled"/>).</summary>
public sealed class BatchPollStatus
{
    /// <summary>Gets the batch's id.</summary>
    public required string BatchId { get; init; }

    /// <summary>Gets the batch's status as OpenAI gave it (<c>validating</c>, <c>in_progress</c>, <c>finalizing</c>, <c>cancelling</c>).</summary>
    public required string Status { get; init; }

    /// <summary>Gets how many of its requests OpenAI has answered so far (<c>request_counts.completed</c>).</summary>
    public required int RequestsCompleted { get; init; }

    /// <summary>Gets how many of its requests have failed so far (<c>request_counts.failed</c>).</summary>
    public required int RequestsFailed { get; init; }

    /// <summary>Gets how many requests the batch holds (<c>request_counts.total</c>; 0 while OpenAI is still validating it).</summary>
    public required int RequestsTotal { get; init; }

    /// <summary>Gets how long ago the batch was created; it is cancelled once this passes <see cref="OpenAIBatchOptions.MaxBatchWait"/>.</summary>
    public required TimeSpan Age { get; init; }
}
