namespace Rpm.Simd;

/// <summary>
/// Exact cosine similarity and top-K selection over L2-normalized float vectors stored as one contiguous row-major
/// matrix. Allocation-free; runs 512-, 256- or 128-bit vectors (whichever this machine accelerates) with a scalar fallback.
/// </summary>
/// <remarks>
/// <see cref="TopK(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Span{int}, Span{float})"/> scores four rows per pass so that each query load serves four rows, with fused multiply-add where
/// the hardware has it, and selects the best K while scoring (no array of scores, no sort). Any dimension works: the
/// part of a row past the last full vector is read as one overlapping vector with the query's already-counted lanes zeroed.
/// </remarks>
internal static class CosineKernel
{
    /// <summary>Computes the dot product of two vectors of equal length.</summary>
    /// <param name="x">The first vector.</param>
    /// <param name="y">The second vector.</param>
    /// <returns>The dot product; for normalized vectors, exactly the score <see cref="TopK(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Span{int}, Span{float})"/> reports for <paramref name="y"/> as a row.</returns>
    /// <exception cref="ArgumentException">The vectors differ in length.</exception>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y) => Dot(x, y, KernelWidth.Vector512);

    /// <summary>Computes the cosine similarity of two vectors that need not be normalized.</summary>
    /// <param name="x">The first vector.</param>
    /// <param name="y">The second vector.</param>
    /// <returns>The cosine similarity, or 0 when either vector is zero.</returns>
    /// <exception cref="ArgumentException">The vectors differ in length or are empty.</exception>
    public static float CosineSimilarity(ReadOnlySpan<float> x, ReadOnlySpan<float> y) => CosineSimilarity(x, y, KernelWidth.Vector512);

    /// <summary>Writes the L2-normalized form of <paramref name="source"/> to <paramref name="destination"/>.</summary>
    /// <param name="source">The vector.</param>
    /// <param name="destination">Where to write; same length as <paramref name="source"/>; may be the same memory.</param>
    /// <exception cref="ArgumentException">The vector is empty, zero, or holds NaN or an infinity.</exception>
    public static void Normalize(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.IsEmpty || destination.Length != source.Length)
        {
            throw new ArgumentException($"The destination must have the source's length ({source.Length}), and the source must not be empty.", nameof(destination));
        }

        // A finite sum proves every element finite (NaN and infinities propagate); a very small one may have lost
        // precision to underflow, and an infinite one may be an overflow of finite values: both take the careful path.
        float sumOfSquares = System.Numerics.Tensors.TensorPrimitives.SumOfSquares(source);
        if (float.IsFinite(sumOfSquares) && sumOfSquares >= 1e-30f)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(source, 1 / MathF.Sqrt(sumOfSquares), destination);
            return;
        }

        NormalizeCarefully(source, destination);
    }

    /// <summary>
    /// Scores a normalized query against every row of a row-major matrix of normalized vectors and keeps the
    /// best <c>indices.Length</c> rows, best first; ties go to the lower row index.
    /// </summary>
    /// <param name="query">The normalized query, of length <paramref name="dimensions"/>.</param>
    /// <param name="rows">The normalized rows, <c>count * dimensions</c> floats.</param>
    /// <param name="dimensions">The length of each row.</param>
    /// <param name="indices">Receives the row indices of the best rows; its length is K.</param>
    /// <param name="scores">Receives their similarities; at least as long as <paramref name="indices"/>.</param>
    /// <returns>The number of rows written: the smaller of K and the row count.</returns>
    /// <exception cref="ArgumentException">The shapes do not agree.</exception>
    public static int TopK(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int dimensions, Span<int> indices, Span<float> scores) =>
        TopK(query, rows, dimensions, indices, scores, KernelWidth.Vector512);

    /// <summary>Computes <see cref="Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> with at most <paramref name="maxWidth"/>.</summary>
    internal static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y, KernelWidth maxWidth)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"The vectors differ in length ({x.Length} and {y.Length}).", nameof(y));
        }

        KernelWidth width = FloatKernels.Resolve(maxWidth, x.Length);
        Span<float> tail = stackalloc float[FloatKernels.MaxLanes];
        FloatKernels.PrepareTail(x, width, tail);
        return FloatKernels.Dot(width, x, tail, y);
    }

    /// <summary>Computes <see cref="CosineSimilarity(ReadOnlySpan{float}, ReadOnlySpan{float})"/> with at most <paramref name="maxWidth"/>.</summary>
    internal static float CosineSimilarity(ReadOnlySpan<float> x, ReadOnlySpan<float> y, KernelWidth maxWidth)
    {
        if (x.Length != y.Length || x.IsEmpty)
        {
            throw new ArgumentException($"The vectors must be non-empty and of equal length ({x.Length} and {y.Length}).", nameof(y));
        }

        return PairKernels.CosineSimilarity(FloatKernels.Resolve(maxWidth, x.Length), x, y);
    }

    /// <summary>Runs <see cref="TopK(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Span{int}, Span{float})"/> with at most <paramref name="maxWidth"/>.</summary>
    internal static int TopK(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int dimensions, Span<int> indices, Span<float> scores, KernelWidth maxWidth)
    {
        ValidateShapes(query, rows, dimensions, indices, scores);
        int k = Math.Min(indices.Length, rows.Length / dimensions);
        if (k == 0)
        {
            return 0;
        }

        KernelWidth width = FloatKernels.Resolve(maxWidth, dimensions);
        Span<float> tail = stackalloc float[FloatKernels.MaxLanes];
        FloatKernels.PrepareTail(query, width, tail);
        var top = new TopKCollector(indices, scores, k);
        FloatKernels.Scan(width, query, tail, rows, dimensions, ref top);
        return top.Complete();
    }

    /// <summary>Checks the arguments of a top-K search.</summary>
    internal static void ValidateShapes(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int dimensions, Span<int> indices, Span<float> scores)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        if (query.Length != dimensions)
        {
            throw new ArgumentException($"The query has {query.Length} dimensions; the rows have {dimensions}.", nameof(query));
        }

        if (rows.Length % dimensions != 0)
        {
            throw new ArgumentException($"The matrix length {rows.Length} is not a multiple of the dimensions {dimensions}.", nameof(rows));
        }

        if (scores.Length < indices.Length)
        {
            throw new ArgumentException($"The scores span ({scores.Length}) must be at least as long as the indices span ({indices.Length}).", nameof(scores));
        }
    }

    // Scales by the largest magnitude first, so neither overflow nor underflow can spoil the norm.
    private static void NormalizeCarefully(ReadOnlySpan<float> source, Span<float> destination)
    {
        double max = 0;
        foreach (float value in source)
        {
            if (!float.IsFinite(value))
            {
                throw new ArgumentException("The vector holds NaN or an infinity; it cannot be compared by cosine similarity.", nameof(source));
            }

            max = Math.Max(max, Math.Abs((double)value));
        }

        if (max == 0)
        {
            throw new ArgumentException("The vector is zero; it has no direction to compare by cosine similarity.", nameof(source));
        }

        double sum = 0;
        foreach (float value in source)
        {
            double scaled = value / max;
            sum += scaled * scaled;
        }

        double norm = Math.Sqrt(sum);
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = (float)(source[i] / max / norm);
        }
    }
}
