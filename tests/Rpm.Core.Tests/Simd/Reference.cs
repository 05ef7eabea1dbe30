using Rpm.Simd;

namespace Rpm.Tests.Simd;

/// <summary>Plain scalar references in double precision, and random test data.</summary>
internal static class Reference
{
    public static readonly int[] OddDimensions = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 383, 384, 385, 767, 768, 1536, 1537];

    public static readonly KernelWidth[] Widths = [KernelWidth.Vector512, KernelWidth.Vector256, KernelWidth.Vector128, KernelWidth.Scalar];

    public static double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += (double)x[i] * y[i];
        }

        return sum;
    }

    public static double Cosine(ReadOnlySpan<float> x, ReadOnlySpan<float> y) => Dot(x, y) / Math.Sqrt(Dot(x, x) * Dot(y, y));

    /// <summary>Float-summation error allowed for a dot product of unit vectors of <paramref name="dimensions"/> elements.</summary>
    public static double Tolerance(int dimensions) => 1e-5 + (1e-7 * dimensions);

    /// <summary>The exact top K in double precision: best first, ties to the lower row.</summary>
    public static (int Index, double Score)[] TopK(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int dimensions, int k)
    {
        var all = new (int Index, double Score)[rows.Length / dimensions];
        for (int i = 0; i < all.Length; i++)
        {
            all[i] = (i, Dot(query, rows.Slice(i * dimensions, dimensions)));
        }

        return [.. all.OrderByDescending(e => e.Score).ThenBy(e => e.Index).Take(k)];
    }

    public static float[] Gaussian(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        return values;
    }

    public static float[] Normalized(Random random, int length)
    {
        float[] values = Gaussian(random, length);
        double norm = Math.Sqrt(Dot(values, values));
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(values[i] / norm);
        }

        return values;
    }

    /// <summary>
    /// Asserts that a kernel's top K agrees with the double-precision reference: same count, each score within
    /// tolerance of the reference score of the row returned and of the reference score at that rank, no row twice,
    /// and the same row wherever the reference's neighboring scores are further apart than the tolerance.
    /// </summary>
    public static void AssertTopK((int Index, double Score)[] expected, ReadOnlySpan<int> indices, ReadOnlySpan<float> scores, int found, ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int dimensions)
    {
        double tolerance = Tolerance(dimensions);
        Assert.Equal(expected.Length, found);
        Assert.Equal(found, indices[..found].ToArray().Distinct().Count());
        for (int i = 0; i < found; i++)
        {
            double own = Dot(query, rows.Slice(indices[i] * dimensions, dimensions));
            Assert.True(Math.Abs(own - scores[i]) <= tolerance, $"Rank {i}: row {indices[i]} scored {scores[i]}, reference {own}.");
            Assert.True(Math.Abs(expected[i].Score - scores[i]) <= tolerance, $"Rank {i}: score {scores[i]}, reference {expected[i].Score} (row {expected[i].Index}).");
            bool separated = (i == 0 || expected[i - 1].Score - expected[i].Score > 2 * tolerance)
                && (i == found - 1 || expected[i].Score - expected[i + 1].Score > 2 * tolerance);
            if (separated)
            {
                Assert.Equal(expected[i].Index, indices[i]);
            }
        }
    }
}
