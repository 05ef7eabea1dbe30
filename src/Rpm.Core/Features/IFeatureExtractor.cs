namespace Rpm;

/// <summary>Extracts the features of an input that could drive a user's answer (stages 1 and 5 of RPM).</summary>
public interface IFeatureExtractor
{
    /// <summary>Extracts the features of one input.</summary>
    /// <param name="request">The input and what is known about the user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>
    /// The features with their usage. When <see cref="FeatureExtractionRequest.Factors"/> is set, every
    /// feature's factor is one of those factors or <see langword="null"/> (unassigned).
    /// </returns>
    Task<FeatureExtractionResult> ExtractAsync(FeatureExtractionRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Extracts the features of several inputs of the same task and user. Implementations may answer them in fewer
    /// model calls than one per input; the default calls <see cref="ExtractAsync"/> for each, in order.
    /// </summary>
    /// <param name="requests">The inputs; all for the same task, and all factor-aware or none.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>One result per request, in order. The cost of a shared call is reported on the first result of the batch.</returns>
    async Task<IReadOnlyList<FeatureExtractionResult>> ExtractBatchAsync(IReadOnlyList<FeatureExtractionRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var results = new List<FeatureExtractionResult>(requests.Count);
        foreach (FeatureExtractionRequest request in requests)
        {
            results.Add(await ExtractAsync(request, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }
}
