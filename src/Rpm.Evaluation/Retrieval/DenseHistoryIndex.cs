using Microsoft.Extensions.AI;
using System.Numerics.Tensors;

namespace Rpm.Evaluation;

/// <summary>Raw-text dense retrieval over one user's history: every history input embedded once, searched by cosine similarity.</summary>
internal sealed class DenseHistoryIndex
{
    private readonly float[][] _rows;
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;

    private DenseHistoryIndex(IReadOnlyList<HistoryItem> items, float[][] rows, IEmbeddingGenerator<string, Embedding<float>> generator)
    {
        Items = items;
        _rows = rows;
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

        return new DenseHistoryIndex(history, [.. vectors.Select(v => Normalized(v.Span))], generator);
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
        float[] q = Normalized(query[0].Vector.Span);
        if (q.Length != _rows[0].Length)
        {
            throw new InvalidOperationException($"The query's embedding has {q.Length} dimensions; the index has {_rows[0].Length}.");
        }

        // Exact cosine top-k over a user's history (hundreds of items): System.Numerics.Tensors' dot product on unit
        // vectors, ties to the earlier item. The evaluation's baselines need no faster kernel than this.
        return [.. Enumerable.Range(0, _rows.Length)
            .Select(i => (Index: i, Score: TensorPrimitives.Dot(q, _rows[i])))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Index)
            .Take(count)
            .Select(x => new HistoryNeighbor(Items[x.Index], x.Score))];
    }

    private static float[] Normalized(ReadOnlySpan<float> vector)
    {
        float norm = TensorPrimitives.Norm(vector);
        if (norm == 0 || !float.IsFinite(norm))
        {
            throw new InvalidOperationException("An embedding is zero or not finite, so it has no direction to compare.");
        }

        float[] unit = new float[vector.Length];
        TensorPrimitives.Divide(vector, norm, unit);
        return unit;
    }
}
