using Microsoft.Extensions.AI;

namespace Rpm.Evaluation;

/// <summary>
/// Stage 6 keyed on the raw query for <see cref="RpmAblation.QueryKey"/> (arXiv 2505.21082, Table 3): the K reasoning
/// paths whose history input is most similar to the query's content by embedding cosine similarity, over the inputs of
/// the items that have a path, whatever the query's features are. Made per query, because the retriever's interface
/// receives the query's features and not the query.
/// </summary>
internal sealed class RawQueryRetriever : IFeatureRetriever
{
    private readonly IFeatureRetriever _inner;
    private readonly DenseHistoryIndex? _index;
    private readonly string _queryContent;

    public RawQueryRetriever(IFeatureRetriever inner, DenseHistoryIndex? index, string queryContent)
    {
        _inner = inner;
        _index = index;
        _queryContent = queryContent;
    }

    public Task<FeatureEmbeddings> EmbedAsync(IReadOnlyList<IReadOnlyList<Feature>> featureSets, CancellationToken cancellationToken = default) =>
        _inner.EmbedAsync(featureSets, cancellationToken);

    public async Task<IReadOnlyList<RetrievedExample>> RetrieveAsync(UserModel userModel, IReadOnlyList<Feature> queryFeatures, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userModel);
        if (_index is null || userModel.Paths.Count == 0)
        {
            return [];
        }

        var paths = userModel.Paths.ToDictionary(p => p.Item.Id, StringComparer.Ordinal);
        IReadOnlyList<HistoryNeighbor> nearest = await _index.SearchAsync(_queryContent, count, cancellationToken).ConfigureAwait(false);
        return [.. nearest.Where(n => paths.ContainsKey(n.Item.Id)).Select(n => new RetrievedExample(paths[n.Item.Id], n.Similarity))];
    }

    /// <summary>Indexes the inputs of the items of a user model that have a reasoning path (none: no index).</summary>
    public static async Task<DenseHistoryIndex?> IndexAsync(UserModel model, IEmbeddingGenerator<string, Embedding<float>> generator, CancellationToken cancellationToken) =>
        model.Paths.Count == 0 ? null : await DenseHistoryIndex.CreateAsync([.. model.Paths.Select(p => p.Item)], generator, cancellationToken).ConfigureAwait(false);
}
