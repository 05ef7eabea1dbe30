using Rpm.Simd;

namespace Rpm.Tests.Simd;

public sealed class CosineKernelTests
{
    public static TheoryData<string> AllWidths() => [.. Reference.Widths.Select(w => w.ToString())];

    [Fact]
    public void Every_width_is_really_run_when_forced_on_this_machine()
    {
        // The forced widths are honoured whenever the hardware has them, so the tests below exercise each path.
        Assert.Equal(KernelWidth.Scalar, FloatKernels.Resolve(KernelWidth.Scalar, 384));
        Assert.Equal(KernelWidth.Vector128, FloatKernels.Resolve(KernelWidth.Vector128, 384));
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            Assert.Equal(KernelWidth.Vector256, FloatKernels.Resolve(KernelWidth.Vector256, 384));
        }

        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            Assert.Equal(KernelWidth.Vector512, FloatKernels.Resolve(KernelWidth.Vector512, 384));
        }

        // A row shorter than a vector falls back to a narrower path rather than reading past it.
        Assert.Equal(KernelWidth.Scalar, FloatKernels.Resolve(KernelWidth.Vector512, 3));
        Assert.True(FloatKernels.Resolve(KernelWidth.Vector512, 15) <= KernelWidth.Vector256);
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public void Dot_matches_the_double_reference_for_every_dimension(string widthName)
    {
        KernelWidth width = Enum.Parse<KernelWidth>(widthName);
        var random = new Random(1);
        foreach (int d in Reference.OddDimensions)
        {
            float[] x = Reference.Normalized(random, d), y = Reference.Normalized(random, d);
            double expected = Reference.Dot(x, y);
            float actual = CosineKernel.Dot(x, y, width);
            Assert.True(Math.Abs(expected - actual) <= Reference.Tolerance(d), $"d={d}: {actual} vs {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public void Cosine_similarity_matches_the_double_reference_on_unnormalized_vectors(string widthName)
    {
        KernelWidth width = Enum.Parse<KernelWidth>(widthName);
        var random = new Random(2);
        foreach (int d in Reference.OddDimensions)
        {
            float[] x = Reference.Gaussian(random, d), y = Reference.Gaussian(random, d);
            for (int i = 0; i < d; i++)
            {
                x[i] *= 3.5f;
                y[i] -= 0.25f;
            }

            double expected = Reference.Cosine(x, y);
            float actual = CosineKernel.CosineSimilarity(x, y, width);
            Assert.True(Math.Abs(expected - actual) <= Reference.Tolerance(d), $"d={d}: {actual} vs {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public void Cosine_similarity_handles_extreme_magnitudes_zero_and_nan(string widthName)
    {
        KernelWidth width = Enum.Parse<KernelWidth>(widthName);
        var random = new Random(3);
        float[] x = Reference.Gaussian(random, 37), y = Reference.Gaussian(random, 37);
        double expected = Reference.Cosine(x, y);

        // Squares of 1e25 overflow float and squares of 1e-25 underflow it; the cosine does not depend on scale.
        float[] huge = [.. x.Select(v => v * 1e25f)], tiny = [.. y.Select(v => v * 1e-25f)];
        Assert.Equal(expected, CosineKernel.CosineSimilarity(huge, y, width), 5);
        Assert.Equal(expected, CosineKernel.CosineSimilarity(x, tiny, width), 5);
        Assert.Equal(expected, CosineKernel.CosineSimilarity(huge, tiny, width), 5);

        Assert.Equal(0f, CosineKernel.CosineSimilarity(new float[37], y, width));
        y[36] = float.NaN;
        Assert.True(float.IsNaN(CosineKernel.CosineSimilarity(x, y, width)));
        Assert.Equal(1f, CosineKernel.CosineSimilarity(x, x, width), 5);
        Assert.Equal(-1f, CosineKernel.CosineSimilarity(x, [.. x.Select(v => -2 * v)], width), 5);
    }

    [Fact]
    public void Pairwise_functions_reject_mismatched_or_empty_vectors()
    {
        Assert.Throws<ArgumentException>(() => CosineKernel.Dot([1f, 2f], [1f]));
        Assert.Throws<ArgumentException>(() => CosineKernel.CosineSimilarity([1f, 2f], [1f]));
        Assert.Throws<ArgumentException>(() => CosineKernel.CosineSimilarity([], []));
    }

    [Fact]
    public void Normalize_gives_unit_vectors_even_for_extreme_magnitudes_and_in_place()
    {
        var random = new Random(4);
        foreach (float scale in new[] { 1f, 1e-30f, 1e-42f, 1e30f, 3e38f })
        {
            float[] source = [.. Reference.Gaussian(random, 385).Select(v => v * scale)];
            if (scale == 3e38f)
            {
                source = [.. source.Select(v => Math.Clamp(v, -float.MaxValue, float.MaxValue))];
            }

            float[] destination = new float[source.Length];
            CosineKernel.Normalize(source, destination);
            Assert.Equal(1.0, Math.Sqrt(Reference.Dot(destination, destination)), 5);
            Assert.True(Reference.Cosine(source.Select(v => (float)(v / (double)scale)).ToArray(), destination) > 0.99999, $"scale {scale}");

            CosineKernel.Normalize(source, source);
            Assert.Equal(destination, source);
        }
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Normalize_rejects_nan_and_infinity(float bad)
    {
        float[] vector = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
        vector[16] = bad;
        ArgumentException ex = Assert.Throws<ArgumentException>(() => CosineKernel.Normalize(vector, new float[17]));
        Assert.Contains("NaN or an infinity", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_rejects_zero_empty_and_mismatched()
    {
        Assert.Contains("zero", Assert.Throws<ArgumentException>(() => CosineKernel.Normalize(new float[40], new float[40])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CosineKernel.Normalize([], []));
        Assert.Throws<ArgumentException>(() => CosineKernel.Normalize([1f, 2f], new float[3]));
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public void TopK_matches_the_double_reference_for_odd_dimensions_row_counts_and_k(string widthName)
    {
        KernelWidth width = Enum.Parse<KernelWidth>(widthName);
        var random = new Random(5);
        foreach (int d in Reference.OddDimensions)
        {
            foreach (int count in new[] { 1, 2, 3, 4, 5, 7, 9, 63, 258 })
            {
                float[] rows = [.. Enumerable.Range(0, count).SelectMany(_ => Reference.Normalized(random, d))];
                float[] query = Reference.Normalized(random, d);
                foreach (int k in new[] { 1, 3, 16, 17, 40, 300 })
                {
                    int[] indices = new int[k];
                    float[] scores = new float[k];
                    int found = CosineKernel.TopK(query, rows, d, indices, scores, width);
                    Reference.AssertTopK(Reference.TopK(query, rows, d, k), indices, scores, found, query, rows, d);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public void TopK_scores_are_bitwise_the_scores_of_dot(string widthName)
    {
        KernelWidth width = Enum.Parse<KernelWidth>(widthName);
        // Rows scored four at a time and rows scored alone (the remainder, the compact re-score) must agree exactly.
        var random = new Random(6);
        foreach (int d in new[] { 5, 17, 33, 384, 385 })
        {
            float[] rows = [.. Enumerable.Range(0, 11).SelectMany(_ => Reference.Normalized(random, d))];
            float[] query = Reference.Normalized(random, d);
            int[] indices = new int[11];
            float[] scores = new float[11];
            Assert.Equal(11, CosineKernel.TopK(query, rows, d, indices, scores, width));
            for (int i = 0; i < 11; i++)
            {
                Assert.Equal(CosineKernel.Dot(query, rows.AsSpan(indices[i] * d, d), width), scores[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public void TopK_breaks_ties_by_the_lower_row_in_the_sorted_and_the_heap_selection(string widthName)
    {
        KernelWidth width = Enum.Parse<KernelWidth>(widthName);
        // 40 rows: every third row is the query itself (score 1), the others are its opposite (score -1).
        var random = new Random(7);
        const int d = 33;
        float[] query = Reference.Normalized(random, d);
        float[] rows = new float[40 * d];
        for (int r = 0; r < 40; r++)
        {
            for (int i = 0; i < d; i++)
            {
                rows[(r * d) + i] = r % 3 == 0 ? query[i] : -query[i];
            }
        }

        foreach (int k in new[] { 5, 16, 17, 30 })
        {
            int[] indices = new int[k];
            float[] scores = new float[k];
            Assert.Equal(k, CosineKernel.TopK(query, rows, d, indices, scores, width));
            int[] best = [.. Enumerable.Range(0, 40).Where(r => r % 3 == 0)];
            int[] rest = [.. Enumerable.Range(0, 40).Where(r => r % 3 != 0)];
            Assert.Equal([.. best.Concat(rest).Take(k)], indices);
            Assert.All(scores.Take(Math.Min(k, best.Length)), s => Assert.Equal(1f, s, 5));
            Assert.All(scores.Skip(best.Length), s => Assert.Equal(-1f, s, 5));
        }
    }

    [Fact]
    public void TopK_handles_k_zero_k_above_the_row_count_and_no_rows()
    {
        float[] rows = [1, 0, 0, 1, -1, 0];
        float[] query = [1, 0];
        int[] indices = [-7, -7, -7, -7, -7];
        float[] scores = new float[5];

        Assert.Equal(0, CosineKernel.TopK(query, rows, 2, [], []));
        Assert.Equal(0, CosineKernel.TopK(query, [], 2, indices, scores));
        Assert.Equal(-7, indices[0]);

        Assert.Equal(3, CosineKernel.TopK(query, rows, 2, indices, scores));
        Assert.Equal([0, 1, 2, -7, -7], indices);
        Assert.Equal([1f, 0f, -1f], scores[..3]);
    }

    [Fact]
    public void TopK_rejects_shapes_that_do_not_agree()
    {
        float[] rows = new float[12];
        Assert.Throws<ArgumentOutOfRangeException>(() => CosineKernel.TopK([1f], rows, 0, new int[1], new float[1]));
        Assert.Throws<ArgumentException>(() => CosineKernel.TopK([1f, 0f], rows, 3, new int[1], new float[1]));
        Assert.Throws<ArgumentException>(() => CosineKernel.TopK([1f, 0f, 0f, 0f, 0f], rows, 5, new int[1], new float[1]));
        Assert.Throws<ArgumentException>(() => CosineKernel.TopK([1f, 0f, 0f], rows, 3, new int[2], new float[1]));
    }
}
