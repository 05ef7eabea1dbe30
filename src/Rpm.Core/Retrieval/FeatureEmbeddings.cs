namespace Rpm;

/// <summary>Embeddings of feature texts and the model that produced them.</summary>
public sealed class FeatureEmbeddings
{
    /// <summary>Initializes a new instance of the <see cref="FeatureEmbeddings"/> class.</summary>
    /// <param name="vectors">One vector per feature set.</param>
    /// <param name="modelId">The embedding model's id, if known.</param>
    public FeatureEmbeddings(IReadOnlyList<ReadOnlyMemory<float>> vectors, string? modelId)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        Vectors = vectors;
        ModelId = modelId;
    }

    /// <summary>Gets one vector per feature set.</summary>
    public IReadOnlyList<ReadOnlyMemory<float>> Vectors { get; }

    /// <summary>Gets the embedding model's id, if known.</summary>
    public string? ModelId { get; }
}
