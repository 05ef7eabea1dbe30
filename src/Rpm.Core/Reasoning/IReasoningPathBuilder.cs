namespace Rpm;

/// <summary>Writes, for one history item, the reasoning that leads from the user's factors to the known answer (stage 4 of RPM).</summary>
public interface IReasoningPathBuilder
{
    /// <summary>Writes the reasoning path of one history item.</summary>
    /// <param name="request">The item, its features, the user's statistics and the known answer.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The reasoning text and its cost.</returns>
    Task<ReasoningPathResult> BuildAsync(ReasoningPathRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the reasoning paths of several history items of the same user. Implementations may answer them in fewer
    /// model calls than one per item; the default calls <see cref="BuildAsync"/> for each, in order.
    /// </summary>
    /// <param name="requests">The items; all for the same task and the same statistics.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>One result per request, in order. The cost of a shared call is reported on the first result of the batch.</returns>
    async Task<IReadOnlyList<ReasoningPathResult>> BuildBatchAsync(IReadOnlyList<ReasoningPathRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var results = new List<ReasoningPathResult>(requests.Count);
        foreach (ReasoningPathRequest request in requests)
        {
            results.Add(await BuildAsync(request, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }
}
