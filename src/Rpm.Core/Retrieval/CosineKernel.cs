using System.Numerics.Tensors;

namespace Rpm;

/// <summary>
/// Exact cosine similarity and top-K selection over L2-normalized float vectors stored as one contiguous
/// row-major matrix. Allocation-free.
/// </summary>
public static class CosineKernel
{
    /// <summary>Computes the dot product of two vectors of equal length.</summary>
    /// <param name="x">The first vector.</param>
    /// <param name="y">The second vector.</param>
    /// <returns>The dot product.</returns>
    /// <exception cref="ArgumentException">The vectors differ in length.</exception>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"The vectors differ in length ({x.Length} and {y.Length}).", nameof(y));
        }

        return TensorPrimitives.Dot(x, y);
    }

    /// <summary>Computes the cosine similarity of two vectors that need not be normalized.</summary>
    /// <param name="x">The first vector.</param>
    /// <param name="y">The second vector.</param>
    /// <returns>The cosine similarity, or 0 when either vector is zero.</returns>
    /// <exception cref="ArgumentException">The vectors differ in length or are empty.</exception>
    public static float CosineSimilarity(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length || x.IsEmpty)
        {
            throw new ArgumentException($"The vectors must be non-empty and of equal length ({x.Length} and {y.Length}).", nameof(y));
        }

        float dot = TensorPrimitives.Dot(x, y);
        float norms = MathF.Sqrt(TensorPrimitives.SumOfSquares(x) * TensorPrimitives.SumOfSquares(y));
        return norms == 0 ? 0 : dot / norms;
    }

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

        double sum = 0;
        foreach (float value in source)
        {
            if (!float.IsFinite(value))
            {
                throw new ArgumentException("The vector holds NaN or an infinity; it cannot be compared by cosine similarity.", nameof(source));
            }

            sum += (double)value * value;
        }

        if (sum == 0)
        {
            throw new ArgumentException("The vector is zero; it has no direction to compare by cosine similarity.", nameof(source));
        }

        TensorPrimitives.Multiply(source, (float)(1 / Math.Sqrt(sum)), destination);
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
    public static int TopK(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int dimensions, Span<int> indices, Span<float> scores)
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
            throw new ArgumentException("The scores span must be at least as long as the indices span.", nameof(scores));
        }

        int count = rows.Length / dimensions;
        int k = Math.Min(indices.Length, count);
        int filled = 0;
        for (int row = 0; row < count; row++)
        {
            float score = TensorPrimitives.Dot(query, rows.Slice(row * dimensions, dimensions));
            if (filled < k)
            {
                Insert(indices, scores, filled++, row, score);
            }
            else if (k > 0 && score > scores[k - 1])
            {
                Insert(indices, scores, k - 1, row, score);
            }
        }

        return k;
    }

    // Insertion into a short sorted list: best first, and a later row never passes an equal score.
    private static void Insert(Span<int> indices, Span<float> scores, int position, int row, float score)
    {
        while (position > 0 && scores[position - 1] < score)
        {
            scores[position] = scores[position - 1];
            indices[position] = indices[position - 1];
            position--;
        }

        scores[position] = score;
        indices[position] = row;
    }
}
