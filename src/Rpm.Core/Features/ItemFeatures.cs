namespace Rpm;

/// <summary>A history item together with the features extracted from it.</summary>
public sealed class ItemFeatures
{
    /// <summary>Initializes a new instance of the <see cref="ItemFeatures"/> class.</summary>
    /// <param name="item">The history item.</param>
    /// <param name="features">Its features.</param>
    public ItemFeatures(HistoryItem item, IReadOnlyList<Feature> features)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(features);
        Item = item;
        Features = features;
    }

    /// <summary>Gets the history item.</summary>
    public HistoryItem Item { get; }

    /// <summary>Gets the item's features.</summary>
    public IReadOnlyList<Feature> Features { get; }
}
