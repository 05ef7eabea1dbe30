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
}
