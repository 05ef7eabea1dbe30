namespace Rpm;

/// <summary>What <c>GET /v1/batches/{id}</c> says about a batch.</summary>
internal sealed record BatchInfo(string Id, string Status, string? InputFileId, string? OutputFileId, string? ErrorFileId, string? Errors)
{
    /// <summary>Gets a value indicating whether the batch will change no more (completed, failed, expired or cancelled).</summary>
    public bool IsTerminal => Status is "completed" or "failed" or "expired" or "cancelled";
}
