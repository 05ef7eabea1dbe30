using Rpm.Simd;
using Xunit.Abstractions;

namespace Rpm.Tests.Retrieval;

public sealed class QuantizedVectorMatrixTests(ITestOutputHelper output)
{
    public static TheoryData<string> AllPaths() => Int8KernelTests.AllPaths();

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Compact_search_returns_exactly_the_float_search_for_every_path_and_width(string pathName)
    {
        Int8Path path = Enum.Parse<Int8Path>(pathName);
        if (!Int8Kernels.IsSupported(path))
        {
            return;
        }

        var random = new Random(30);
        foreach (int d in new[] { 1, 3, 7, 15, 17, 31, 33, 63, 65, 383, 384, 385 })
        {
            foreach (int count in new[] { 1, 3, 5, 9, 130 })
            {
                VectorMatrix exact = VectorMatrix.Create(d, Reference.Gaussian(random, count * d));
                QuantizedVectorMatrix compact = exact.Quantize();
                float[] query = Reference.Gaussian(random, d);
                foreach (KernelWidth width in Reference.Widths)
                {
                    foreach (int k in new[] { 1, 3, 17, 200 })
                    {
                        AssertSame(exact, compact, query, k, path, width);
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Compact_search_is_exact_on_near_duplicates_that_int8_cannot_tell_apart(string pathName)
    {
        Int8Path path = Enum.Parse<Int8Path>(pathName);
        if (!Int8Kernels.IsSupported(path))
        {
            return;
        }

        // Rows are the query plus noise a few quantization steps wide: their scores differ by less than the int8
        // error, so only the bound-driven float re-score can order them.
        var random = new Random(35);
        foreach (int d in new[] { 33, 384 })
        {
            float[] query = Reference.Normalized(random, d);
            float[] rows = new float[2000 * d];
            for (int r = 0; r < 2000; r++)
            {
                float[] noise = Reference.Normalized(random, d);
                float amount = 0.002f + (0.02f * (r % 10) / 10);
                for (int i = 0; i < d; i++)
                {
                    rows[(r * d) + i] = query[i] + (amount * noise[i]);
                }
            }

            VectorMatrix exact = VectorMatrix.Create(d, rows);
            QuantizedVectorMatrix compact = exact.Quantize();
            foreach (int k in new[] { 1, 3, 10, 40 })
            {
                AssertSame(exact, compact, query, k, path, KernelWidth.Vector512);
            }

            int[] approximate = new int[10], expected = new int[10];
            exact.Search(query, expected, new float[10]);
            compact.Search(query, approximate, new float[10], path, KernelWidth.Vector512, approximate: true, out _);
            Assert.NotEqual(expected, approximate);
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Compact_search_is_exact_when_only_the_rows_carry_quantization_error(string pathName)
    {
        Int8Path path = Enum.Parse<Int8Path>(pathName);
        if (!Int8Kernels.IsSupported(path))
        {
            return;
        }

        // A basis-vector query quantizes without error, so the score of a row is its first component, which the rows
        // quantize coarsely (one large component sets a coarse scale) and all in the same direction: only the row
        // residual term of the bound can send the best rows to the float re-score.
        var random = new Random(36);
        const int d = 64;
        float[] query = new float[d];
        query[0] = 1;
        float[] rows = new float[3000 * d];
        for (int r = 0; r < 3000; r++)
        {
            float[] noise = Reference.Gaussian(random, d);
            for (int i = 1; i < d; i++)
            {
                rows[(r * d) + i] = 0.05f * noise[i];
            }

            // 127 * first / largest lies in (56.05, 56.33): every code rounds down, the best rows the most.
            rows[(r * d) + 0] = 0.3972f + (0.002f * (float)random.NextDouble());
            rows[(r * d) + 1 + (r % (d - 1))] = 0.9f;
        }

        VectorMatrix exact = VectorMatrix.Create(d, rows);
        QuantizedVectorMatrix compact = exact.Quantize();
        foreach (int k in new[] { 1, 3, 10, 40 })
        {
            AssertSame(exact, compact, query, k, path, KernelWidth.Vector512);
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Compact_search_is_exact_when_only_the_query_carries_quantization_error(string pathName)
    {
        Int8Path path = Enum.Parse<Int8Path>(pathName);
        if (!Int8Kernels.IsSupported(path))
        {
            return;
        }

        // The mirror image: basis-vector rows quantize without error, so the score of row j is the query's component
        // j, which the query quantizes coarsely and always downwards: only the query residual term can save the best.
        var random = new Random(37);
        const int d = 1000;
        float[] query = new float[d];
        query[0] = 0.9f;
        for (int j = 1; j < d; j++)
        {
            query[j] = 0.3972f + (0.002f * (float)random.NextDouble());
        }

        float[] rows = new float[d * d];
        for (int j = 0; j < d; j++)
        {
            rows[(j * d) + j] = 1;
        }

        VectorMatrix exact = VectorMatrix.Create(d, rows);
        QuantizedVectorMatrix compact = exact.Quantize();
        foreach (int k in new[] { 2, 3, 10, 40 })
        {
            AssertSame(exact, compact, query, k, path, KernelWidth.Vector512);
        }
    }

    [Fact]
    public void Compact_search_breaks_ties_like_the_float_search()
    {
        // Duplicated rows score bitwise equal in both forms: the lower row must come first.
        var random = new Random(31);
        const int d = 40;
        float[][] distinct = [.. Enumerable.Range(0, 5).Select(_ => Reference.Gaussian(random, d))];
        VectorMatrix exact = VectorMatrix.Create(d, [.. Enumerable.Range(0, 60).Select(i => new ReadOnlyMemory<float>(distinct[i % 5]))]);
        QuantizedVectorMatrix compact = exact.Quantize();
        foreach (int k in new[] { 4, 12, 16, 17, 33 })
        {
            int[] indices = AssertSame(exact, compact, distinct[2], k, Int8Kernels.Best, KernelWidth.Vector512);
            Assert.Equal([.. Enumerable.Range(0, 12).Select(i => 2 + (5 * i)).Take(k)], indices.Take(Math.Min(k, 12)));
        }
    }

    [Fact]
    public void The_integer_scan_filters_and_rescoring_stays_small()
    {
        var random = new Random(32);
        const int d = 384, count = 20_000;
        QuantizedVectorMatrix compact = VectorMatrix.Create(d, Reference.Gaussian(random, count * d)).Quantize();
        int[] indices = new int[3];
        float[] scores = new float[3];
        compact.Search(Reference.Gaussian(random, d), indices, scores, Int8Kernels.Best, KernelWidth.Vector512, approximate: false, out int rescored);
        output.WriteLine($"Rows re-scored in float: {rescored} of {count}.");
        Assert.InRange(rescored, 3, count / 50);
    }

    [Fact]
    public void Recall_on_random_vectors_is_exact_after_the_rescore()
    {
        var random = new Random(33);
        const int d = 384, count = 20_000, queries = 40;
        VectorMatrix exact = VectorMatrix.Create(d, Reference.Gaussian(random, count * d));
        RecallResult result = MeasureRecall(exact, [.. Enumerable.Range(0, queries).Select(_ => Reference.Gaussian(random, d))], 3);
        output.WriteLine($"Random normal {count} x {d}, {queries} queries: {result}");
        Assert.Equal(1.0, result.Recall);
        Assert.Equal(queries, result.Identical);

        // The int8 scores alone are close but not exact: the re-score is what makes the answer exact.
        Assert.InRange(result.ApproximateRecall, 0.8, 1.0);
    }

    [Fact]
    public void Dimensions_too_large_for_int32_dot_products_are_rejected()
    {
        float[] one = new float[70_000];
        one[5] = 1;
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorMatrix.Create(70_000, one).Quantize());
    }

    [Fact]
    public void Append_and_argument_checks()
    {
        var random = new Random(34);
        const int d = 19;
        VectorMatrix exact = VectorMatrix.Create(d, Reference.Gaussian(random, 10 * d));
        QuantizedVectorMatrix compact = exact.Quantize();
        float[][] added = [.. Enumerable.Range(0, 7).Select(_ => Reference.Gaussian(random, d))];
        QuantizedVectorMatrix appended = compact.Append([.. added.Select(v => new ReadOnlyMemory<float>(v))]);

        Assert.Equal(10, compact.Count);
        Assert.Equal(17, appended.Count);
        Assert.Same(exact, compact.Source);
        AssertSame(appended.Source, appended, added[3], 4, Int8Kernels.Best, KernelWidth.Vector512);
        AssertSame(exact, compact, added[3], 4, Int8Kernels.Best, KernelWidth.Vector512);

        Assert.Equal(0, compact.Search(added[0], [], []));
        Assert.Throws<ArgumentException>(() => compact.Search(new float[d - 1], new int[1], new float[1]));
        Assert.Throws<ArgumentException>(() => compact.Search(new float[d], new int[1], new float[1]));
        Assert.Throws<ArgumentException>(() => compact.Search(added[0], new int[2], new float[1]));
        Assert.Contains("Vector 0", Assert.Throws<ArgumentException>(() => compact.Append([new float[d]])).Message, StringComparison.Ordinal);
    }

    public static RecallResult MeasureRecall(VectorMatrix exact, IReadOnlyList<float[]> queries, int k)
    {
        QuantizedVectorMatrix compact = exact.Quantize();
        double recall = 0, approximateRecall = 0, rescored = 0;
        int identical = 0;
        foreach (float[] query in queries)
        {
            int[] expected = new int[k], actual = new int[k], approximate = new int[k];
            float[] expectedScores = new float[k], actualScores = new float[k];
            exact.Search(query, expected, expectedScores);
            compact.Search(query, actual, actualScores, Int8Kernels.Best, KernelWidth.Vector512, approximate: false, out int count);
            compact.Search(query, approximate, new float[k], Int8Kernels.Best, KernelWidth.Vector512, approximate: true, out _);
            recall += (double)actual.Intersect(expected).Count() / k;
            approximateRecall += (double)approximate.Intersect(expected).Count() / k;
            rescored += count;
            identical += expected.SequenceEqual(actual) && expectedScores.SequenceEqual(actualScores) ? 1 : 0;
        }

        return new RecallResult(recall / queries.Count, approximateRecall / queries.Count, identical, rescored / queries.Count);
    }

    private static int[] AssertSame(VectorMatrix exact, QuantizedVectorMatrix compact, float[] query, int k, Int8Path path, KernelWidth width)
    {
        int[] expected = new int[k], actual = new int[k];
        float[] expectedScores = new float[k], actualScores = new float[k];
        int expectedCount = exact.Search(query, expected, expectedScores, width);
        int actualCount = compact.Search(query, actual, actualScores, path, width, approximate: false, out _);
        Assert.Equal(Math.Min(k, exact.Count), expectedCount);
        Assert.Equal(expectedCount, actualCount);
        Assert.Equal(expected, actual);
        Assert.Equal(expectedScores, actualScores);
        return actual;
    }

    public readonly record struct RecallResult(double Recall, double ApproximateRecall, int Identical, double MeanRescored)
    {
        public override string ToString() =>
            $"recall {Recall:F4} (identical {Identical}), int8 scores alone {ApproximateRecall:F4}, mean rows re-scored {MeanRescored:F1}";
    }
}
