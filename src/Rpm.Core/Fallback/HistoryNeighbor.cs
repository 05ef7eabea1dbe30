namespace Rpm;

/// <summary>A past history item found similar to a query, with its similarity: the input of the model-free predictor.</summary>
internal sealed class HistoryNeighbor
{
    /// <summary>Initializes a new instance of the <see cref="HistoryNeighbor"/> class.</summary>
    /// <param name="item">The history item.</param>
    /// <param name="similarity">Its similarity to the query (cosine, in [-1, 1]; negative values carry no weight).</param>
    /// <param name="features">The item's features tagged with the user's factors, when a user model is known; otherwise <see langword="null"/>.</param>
    public HistoryNeighbor(HistoryItem item, float similarity, IReadOnlyList<Feature>? features = null)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (!float.IsFinite(similarity))
        {
            throw new ArgumentOutOfRangeException(nameof(similarity), similarity, $"The similarity of history item '{item.Id}' must be a finite number.");
        }

        Item = item;
        Similarity = similarity;
        Features = features;
    }

    /// <summary>Gets the history item.</summary>
    public HistoryItem Item { get; }

    /// <summary>Gets the similarity to the query.</summary>
    public float Similarity { get; }

    /// <summary>Gets the item's features tagged with the user's factors, if known.</summary>
    public IReadOnlyList<Feature>? Features { get; }

    /// <summary>Gets the weight of the neighbor's vote: its similarity, or 0 when negative.</summary>
    public double Weight => Math.Max(0, Similarity);
}
