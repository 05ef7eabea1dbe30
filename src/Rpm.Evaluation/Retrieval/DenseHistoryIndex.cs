using Microsoft.Extensions.AI;
using Rpm.Simd;

namespace Rpm.Evaluation;

/// <summary>Raw-text dense retrieval over one user's history: every history input embedded once, searched by cosine similarity.</summary>
public sealed class DenseHistoryIndex
{
    private readonly VectorMatrix _matrix;
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;

    private DenseHistoryIndex(IReadOnlyList<HistoryItem> items, VectorMatrix matrix, IEmbeddingGenerator<string, Embedding<float>> generator)
    {
        Items = items;
        _matrix = matrix;
        _generator = generator;
    }

    /// <summary>Gets the indexed history items.</summary>
    public IReadOnlyList<HistoryItem> Items { get; }

    /// <summary>Embeds the inputs of a history (in batches of 64).</summary>
    /// <param name="history">The history; at least one item.</param>
    /// <param name="generator">The embedding generator.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The index.</returns>
    public static async Task<DenseHistoryIndex> CreateAsync(IReadOnlyList<HistoryItem> history, IEmbeddingGenerator<string, Embedding<float>> generator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(generator);
        if (history.Count == 0)
        {
            throw new ArgumentException("The history is empty; there is nothing to index.", nameof(history));
        }

        var vectors = new List<ReadOnlyMemory<float>>(history.Count);
        for (int start = 0; start < history.Count; start += 64)
        {
            string[] batch = [.. history.Skip(start).Take(64).Select(h => h.Input)];
            GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync(batch, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (embeddings.Count != batch.Length)
            {
                throw new InvalidOperationException($"The embedding generator returned {embeddings.Count} embeddings for {batch.Length} texts.");
            }

            vectors.AddRange(embeddings.Select(e => e.Vector));
        }

        return new DenseHistoryIndex(history, VectorMatrix.Create(vectors[0].Length, vectors), generator);
    }

    /// <summary>Finds the history items whose input is most similar to a text.</summary>
    /// <param name="text">The query text (the raw query for RAG).</param>
    /// <param name="count">How many to return.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The neighbors, most similar first.</returns>
    public async Task<IReadOnlyList<HistoryNeighbor>> SearchAsync(string text, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        GeneratedEmbeddings<Embedding<float>> query = await _generator.GenerateAsync([text], cancellationToken: cancellationToken).ConfigureAwait(false);
        int k = Math.Min(count, _matrix.Count);
        int[] indices = new int[k];
        float[] scores = new float[k];
        int found = _matrix.Search(query[0].Vector.Span, indices, scores);
        return [.. Enumerable.Range(0, found).Select(i => new HistoryNeighbor(Items[indices[i]], scores[i]))];
    }
}
