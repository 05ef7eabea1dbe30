namespace Rpm;

/// <summary>Embeds feature texts and retrieves a user's most similar past reasoning paths by cosine similarity (stage 6 of RPM).</summary>
public interface IFeatureRetriever
{
    /// <summary>Embeds the feature text (<see cref="FeatureText.Compose"/>) of each feature set.</summary>
    /// <param name="featureSets">One feature set per item.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>One embedding per feature set, in order, and the embedding model that produced them.</returns>
    Task<FeatureEmbeddings> EmbedAsync(IReadOnlyList<IReadOnlyList<Feature>> featureSets, CancellationToken cancellationToken = default);

    /// <summary>Retrieves the <paramref name="count"/> reasoning paths of <paramref name="userModel"/> whose feature text is most similar to <paramref name="queryFeatures"/>.</summary>
    /// <param name="userModel">The user model to search.</param>
    /// <param name="queryFeatures">The query's features.</param>
    /// <param name="count">The number of paths to return (fewer when the model has fewer).</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The paths, most similar first; ties keep history order.</returns>
    Task<IReadOnlyList<RetrievedExample>> RetrieveAsync(UserModel userModel, IReadOnlyList<Feature> queryFeatures, int count, CancellationToken cancellationToken = default);
}
