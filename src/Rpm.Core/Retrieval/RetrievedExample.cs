namespace Rpm;

/// <summary>A past reasoning path retrieved for a query, with its cosine similarity to the query's features.</summary>
public sealed class RetrievedExample
{
    /// <summary>Initializes a new instance of the <see cref="RetrievedExample"/> class.</summary>
    /// <param name="path">The retrieved reasoning path.</param>
    /// <param name="similarity">The cosine similarity between the query's feature text and the path's feature text.</param>
    public RetrievedExample(ReasoningPath path, float similarity)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = path;
        Similarity = similarity;
    }

    /// <summary>Gets the retrieved reasoning path.</summary>
    public ReasoningPath Path { get; }

    /// <summary>Gets the cosine similarity to the query's features, in [-1, 1].</summary>
    public float Similarity { get; }
}
