namespace Rpm;

/// <summary>
/// An immutable, contiguous row-major matrix of L2-normalized vectors, searched with <see cref="CosineKernel"/>.
/// Immutable, so any number of readers may search it while a new matrix is being built for an updated model.
/// </summary>
public sealed class VectorMatrix
{
    private readonly float[] _rows;

    private VectorMatrix(float[] rows, int dimensions, int count)
    {
        _rows = rows;
        Dimensions = dimensions;
        Count = count;
    }

    /// <summary>Gets the length of each vector.</summary>
    public int Dimensions { get; }

    /// <summary>Gets the number of vectors.</summary>
    public int Count { get; }

    /// <summary>Gets the normalized rows, <c>Count * Dimensions</c> floats.</summary>
    public ReadOnlySpan<float> Rows => _rows;

    /// <summary>Creates a matrix from vectors, normalizing each.</summary>
    /// <param name="dimensions">The length every vector must have.</param>
    /// <param name="vectors">The vectors.</param>
    /// <returns>The matrix.</returns>
    /// <exception cref="ArgumentException">A vector has another length, or is zero, NaN or infinite (its index is named).</exception>
    public static VectorMatrix Create(int dimensions, IReadOnlyList<ReadOnlyMemory<float>> vectors)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        ArgumentNullException.ThrowIfNull(vectors);
        var rows = new float[checked(vectors.Count * dimensions)];
        for (int i = 0; i < vectors.Count; i++)
        {
            if (vectors[i].Length != dimensions)
            {
                throw new ArgumentException($"Vector {i} has {vectors[i].Length} dimensions; {dimensions} were expected.", nameof(vectors));
            }

            try
            {
                CosineKernel.Normalize(vectors[i].Span, rows.AsSpan(i * dimensions, dimensions));
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"Vector {i} cannot be stored: {ex.Message}", nameof(vectors), ex);
            }
        }

        return new VectorMatrix(rows, dimensions, vectors.Count);
    }

    /// <summary>Finds the rows most similar to <paramref name="query"/> (normalized here).</summary>
    /// <param name="query">The query vector, of length <see cref="Dimensions"/>.</param>
    /// <param name="indices">Receives the best row indices, best first; its length is K.</param>
    /// <param name="scores">Receives their cosine similarities.</param>
    /// <returns>The number of rows written.</returns>
    public int Search(ReadOnlySpan<float> query, Span<int> indices, Span<float> scores)
    {
        if (query.Length != Dimensions)
        {
            throw new ArgumentException($"The query has {query.Length} dimensions; the matrix has {Dimensions}.", nameof(query));
        }

        Span<float> normalized = Dimensions <= 2048 ? stackalloc float[Dimensions] : new float[Dimensions];
        CosineKernel.Normalize(query, normalized);
        return CosineKernel.TopK(normalized, _rows, Dimensions, indices, scores);
    }
}
