namespace Rpm.Simd;

/// <summary>
/// An immutable, contiguous row-major matrix of L2-normalized vectors, searched with <see cref="CosineKernel"/>.
/// Immutable, so any number of readers may search it while a new matrix is being built for an updated model
/// (<see cref="Append(IReadOnlyList{ReadOnlyMemory{float}})"/> returns a new matrix and leaves this one as it was).
/// </summary>
/// <remarks>The rows start on a 64-byte boundary in memory that never moves, so vector loads of rows whose length is a multiple of 16 never straddle cache lines.</remarks>
internal sealed class VectorMatrix
{
    private readonly float[] _buffer;
    private readonly int _offset;

    private VectorMatrix(float[] buffer, int offset, int dimensions, int count)
    {
        _buffer = buffer;
        _offset = offset;
        Dimensions = dimensions;
        Count = count;
    }

    /// <summary>Gets the length of each vector.</summary>
    public int Dimensions { get; }

    /// <summary>Gets the number of vectors.</summary>
    public int Count { get; }

    /// <summary>Gets the normalized rows, <c>Count * Dimensions</c> floats.</summary>
    public ReadOnlySpan<float> Rows => _buffer.AsSpan(_offset, Count * Dimensions);

    /// <summary>Creates a matrix from vectors, normalizing each.</summary>
    /// <param name="dimensions">The length every vector must have.</param>
    /// <param name="vectors">The vectors.</param>
    /// <returns>The matrix.</returns>
    /// <exception cref="ArgumentException">A vector has another length, or is zero, NaN or infinite (its index is named).</exception>
    public static VectorMatrix Create(int dimensions, IReadOnlyList<ReadOnlyMemory<float>> vectors)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        ArgumentNullException.ThrowIfNull(vectors);
        return Build(null, dimensions, vectors.Count, (i, destination) => CopyVector(vectors, i, dimensions, destination));
    }

    /// <summary>Creates a matrix from vectors laid end to end in one buffer, normalizing each.</summary>
    /// <param name="dimensions">The length of each vector.</param>
    /// <param name="vectors">The vectors, row-major: a multiple of <paramref name="dimensions"/> floats.</param>
    /// <returns>The matrix.</returns>
    /// <exception cref="ArgumentException">The buffer is not a whole number of vectors, or a vector is zero, NaN or infinite (its index is named).</exception>
    public static VectorMatrix Create(int dimensions, ReadOnlySpan<float> vectors)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        if (vectors.Length % dimensions != 0)
        {
            throw new ArgumentException($"The buffer length {vectors.Length} is not a multiple of the dimensions {dimensions}.", nameof(vectors));
        }

        int count = vectors.Length / dimensions;
        (float[] buffer, int offset) = Allocate(dimensions, count);
        Span<float> rows = buffer.AsSpan(offset, vectors.Length);
        for (int i = 0; i < count; i++)
        {
            NormalizeRow(vectors.Slice(i * dimensions, dimensions), rows.Slice(i * dimensions, dimensions), i, nameof(vectors));
        }

        return new VectorMatrix(buffer, offset, dimensions, count);
    }

    /// <summary>Returns a new matrix holding this matrix's rows followed by <paramref name="vectors"/> (normalized); this matrix is unchanged.</summary>
    /// <param name="vectors">The vectors to add.</param>
    /// <returns>The new matrix.</returns>
    /// <exception cref="ArgumentException">A vector has another length, or is zero, NaN or infinite (its index in <paramref name="vectors"/> is named).</exception>
    public VectorMatrix Append(IReadOnlyList<ReadOnlyMemory<float>> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        return Build(this, Dimensions, vectors.Count, (i, destination) => CopyVector(vectors, i, Dimensions, destination));
    }

    /// <summary>Finds the rows most similar to <paramref name="query"/> (normalized here).</summary>
    /// <param name="query">The query vector, of length <see cref="Dimensions"/>.</param>
    /// <param name="indices">Receives the best row indices, best first (ties to the lower index); its length is K.</param>
    /// <param name="scores">Receives their cosine similarities; at least as long as <paramref name="indices"/>.</param>
    /// <returns>The number of rows written: the smaller of K and <see cref="Count"/>.</returns>
    /// <exception cref="ArgumentException">The query has another length, or is zero, NaN or infinite.</exception>
    public int Search(ReadOnlySpan<float> query, Span<int> indices, Span<float> scores) => Search(query, indices, scores, KernelWidth.Vector512);

    /// <summary>Runs <see cref="Search(ReadOnlySpan{float}, Span{int}, Span{float})"/> with at most <paramref name="maxWidth"/>.</summary>
    internal int Search(ReadOnlySpan<float> query, Span<int> indices, Span<float> scores, KernelWidth maxWidth)
    {
        if (query.Length != Dimensions)
        {
            throw new ArgumentException($"The query has {query.Length} dimensions; the matrix has {Dimensions}.", nameof(query));
        }

        // On a cache line, so that no query load of the kernel straddles two.
        Span<float> normalized = Dimensions <= 2048
            ? AlignedArray.AlignStack(stackalloc float[Dimensions + (AlignedArray.Alignment / sizeof(float))], Dimensions)
            : new float[Dimensions];
        CosineKernel.Normalize(query, normalized);
        return CosineKernel.TopK(normalized, Rows, Dimensions, indices, scores, maxWidth);
    }

    /// <summary>Gets one normalized row.</summary>
    internal ReadOnlySpan<float> Row(int index) => _buffer.AsSpan(_offset + (index * Dimensions), Dimensions);

    private static (float[] Buffer, int Offset) Allocate(int dimensions, int count)
    {
        int length = checked(count * dimensions);
        float[] buffer = AlignedArray.Allocate<float>(length, zeroed: false, out int offset);
        return (buffer, offset);
    }

    private static VectorMatrix Build(VectorMatrix? prefix, int dimensions, int added, Action<int, Span<float>> write)
    {
        int existing = prefix?.Count ?? 0;
        (float[] buffer, int offset) = Allocate(dimensions, checked(existing + added));
        Span<float> rows = buffer.AsSpan(offset, (existing + added) * dimensions);
        prefix?.Rows.CopyTo(rows);
        for (int i = 0; i < added; i++)
        {
            write(i, rows.Slice((existing + i) * dimensions, dimensions));
        }

        return new VectorMatrix(buffer, offset, dimensions, existing + added);
    }

    private static void CopyVector(IReadOnlyList<ReadOnlyMemory<float>> vectors, int index, int dimensions, Span<float> destination)
    {
        ReadOnlyMemory<float> vector = vectors[index];
        if (vector.Length != dimensions)
        {
            throw new ArgumentException($"Vector {index} has {vector.Length} dimensions; {dimensions} were expected.", nameof(vectors));
        }

        NormalizeRow(vector.Span, destination, index, nameof(vectors));
    }

    private static void NormalizeRow(ReadOnlySpan<float> source, Span<float> destination, int index, string parameterName)
    {
        try
        {
            CosineKernel.Normalize(source, destination);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"Vector {index} cannot be stored: {ex.Message}", parameterName, ex);
        }
    }
}
