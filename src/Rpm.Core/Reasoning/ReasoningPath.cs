using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>
/// One entry of the user's reasoning memory S_u: a past item, its features, the reasoning that leads from the
/// user's factors to the known answer, and the embedding of the item's feature text used for retrieval.
/// </summary>
public sealed class ReasoningPath
{
    /// <summary>Initializes a new instance of the <see cref="ReasoningPath"/> class.</summary>
    /// <param name="item">The history item (output in canonical form).</param>
    /// <param name="features">The item's features, assigned to the user's factors.</param>
    /// <param name="reasoning">The reasoning that leads to the known answer.</param>
    /// <param name="embedding">The embedding of <see cref="FeatureText.Compose"/> over <paramref name="features"/>; empty until indexed.</param>
    [JsonConstructor]
    public ReasoningPath(HistoryItem item, IReadOnlyList<Feature> features, string reasoning, ReadOnlyMemory<float> embedding = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(reasoning);
        Item = item;
        Features = features;
        Reasoning = reasoning;
        Embedding = embedding;
    }

    /// <summary>Gets the history item.</summary>
    public HistoryItem Item { get; }

    /// <summary>Gets the item's features.</summary>
    public IReadOnlyList<Feature> Features { get; }

    /// <summary>Gets the reasoning that leads from the user's factors to the known answer.</summary>
    public string Reasoning { get; }

    /// <summary>Gets the embedding of the item's feature text (the retrieval key); empty until indexed.</summary>
    public ReadOnlyMemory<float> Embedding { get; }

    /// <summary>Returns a copy of this path with <paramref name="embedding"/>.</summary>
    /// <param name="embedding">The embedding.</param>
    /// <returns>The copy.</returns>
    public ReasoningPath WithEmbedding(ReadOnlyMemory<float> embedding) => new(Item, Features, Reasoning, embedding);
}
