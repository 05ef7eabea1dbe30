using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Rpm.Simd;

namespace Rpm.Tests.Simd;

public sealed class VectorMatrixTests
{
    [Fact]
    public void Create_normalizes_rows_and_search_matches_the_reference()
    {
        var random = new Random(10);
        const int d = 385;
        float[][] vectors = [.. Enumerable.Range(0, 103).Select(_ => Reference.Gaussian(random, d))];
        VectorMatrix matrix = VectorMatrix.Create(d, [.. vectors.Select(v => new ReadOnlyMemory<float>(v))]);

        Assert.Equal(103, matrix.Count);
        Assert.Equal(d, matrix.Dimensions);
        Assert.Equal(103 * d, matrix.Rows.Length);
        for (int r = 0; r < matrix.Count; r++)
        {
            ReadOnlySpan<float> row = matrix.Rows.Slice(r * d, d);
            Assert.Equal(1.0, Math.Sqrt(Reference.Dot(row, row)), 5);
            Assert.Equal(1.0, Reference.Cosine(row, vectors[r]), 5);
        }

        // The query need not be normalized: Search does it.
        float[] query = [.. Reference.Gaussian(random, d).Select(v => v * 40)];
        float[] normalizedQuery = [.. query.Select(v => (float)(v / Math.Sqrt(Reference.Dot(query, query))))];
        int[] indices = new int[7];
        float[] scores = new float[7];
        int found = matrix.Search(query, indices, scores);
        Reference.AssertTopK(Reference.TopK(normalizedQuery, matrix.Rows, d, 7), indices, scores, found, normalizedQuery, matrix.Rows, d);
    }

    [Fact]
    public void Search_forced_to_each_width_agrees()
    {
        var random = new Random(11);
        const int d = 65;
        VectorMatrix matrix = VectorMatrix.Create(d, Reference.Gaussian(random, 77 * d));
        float[] query = Reference.Gaussian(random, d);
        var results = new List<int[]>();
        foreach (KernelWidth width in Reference.Widths)
        {
            int[] indices = new int[5];
            Assert.Equal(5, matrix.Search(query, indices, new float[5], width));
            results.Add(indices);
        }

        Assert.All(results, r => Assert.Equal(results[0], r));
    }

    [Fact]
    public void Rows_start_on_a_cache_line()
    {
        var random = new Random(12);
        foreach (int count in new[] { 1, 3, 1000 })
        {
            VectorMatrix matrix = VectorMatrix.Create(384, Reference.Gaussian(random, count * 384));
            nint address = Address(matrix.Rows);
            Assert.Equal(0, address % 64);

            // Pinned: a full collection does not move it.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            Assert.Equal(address, Address(matrix.Rows));
        }
    }

    [Theory]
    [InlineData(float.NaN, "NaN or an infinity")]
    [InlineData(float.PositiveInfinity, "NaN or an infinity")]
    [InlineData(0f, "zero")]
    public void Create_rejects_bad_vectors_and_names_the_index(float bad, string reason)
    {
        float[] good = [1, 2, 3];
        float[] wrong = bad == 0 ? [0, 0, 0] : [1, bad, 3];
        ArgumentException ex = Assert.Throws<ArgumentException>(() => VectorMatrix.Create(3, [good, good, wrong]));
        Assert.Contains("Vector 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<ArgumentException>(() => VectorMatrix.Create(3, [.. good, .. wrong, .. good]));
        Assert.Contains("Vector 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_and_search_reject_mismatched_lengths()
    {
        Assert.Contains("Vector 1 has 2 dimensions", Assert.Throws<ArgumentException>(() => VectorMatrix.Create(3, [new float[] { 1, 2, 3 }, new float[] { 1, 2 }])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => VectorMatrix.Create(3, new float[] { 1, 2, 3, 4 }.AsSpan()));
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorMatrix.Create(0, Array.Empty<ReadOnlyMemory<float>>()));

        VectorMatrix matrix = VectorMatrix.Create(3, [new float[] { 1, 2, 3 }]);
        Assert.Throws<ArgumentException>(() => matrix.Search([1f, 2f], new int[1], new float[1]));
        Assert.Throws<ArgumentException>(() => matrix.Search([0f, 0f, 0f], new int[1], new float[1]));
        Assert.Throws<ArgumentException>(() => matrix.Search([1f, 2f, 3f], new int[2], new float[1]));
    }

    [Fact]
    public void An_empty_matrix_finds_nothing()
    {
        VectorMatrix matrix = VectorMatrix.Create(4, Array.Empty<ReadOnlyMemory<float>>());
        Assert.Equal(0, matrix.Count);
        Assert.Equal(0, matrix.Search([1f, 0f, 0f, 0f], new int[3], new float[3]));
    }

    [Fact]
    public void Append_returns_a_new_matrix_and_leaves_the_original_unchanged()
    {
        var random = new Random(13);
        const int d = 17;
        float[][] first = [.. Enumerable.Range(0, 9).Select(_ => Reference.Gaussian(random, d))];
        float[][] second = [.. Enumerable.Range(0, 6).Select(_ => Reference.Gaussian(random, d))];
        VectorMatrix original = VectorMatrix.Create(d, [.. first.Select(v => new ReadOnlyMemory<float>(v))]);
        float[] before = original.Rows.ToArray();

        VectorMatrix appended = original.Append([.. second.Select(v => new ReadOnlyMemory<float>(v))]);
        VectorMatrix whole = VectorMatrix.Create(d, [.. first.Concat(second).Select(v => new ReadOnlyMemory<float>(v))]);

        Assert.Equal(9, original.Count);
        Assert.Equal(before, original.Rows.ToArray());
        Assert.Equal(15, appended.Count);
        Assert.Equal(whole.Rows.ToArray(), appended.Rows.ToArray());
        Assert.Contains("Vector 1", Assert.Throws<ArgumentException>(() => original.Append([second[0], new float[d]])).Message, StringComparison.Ordinal);
        Assert.Equal(9, original.Count);
    }

    [Fact]
    public async Task Concurrent_readers_see_stable_results_while_a_new_matrix_is_built()
    {
        var random = new Random(14);
        const int d = 64;
        VectorMatrix matrix = VectorMatrix.Create(d, Reference.Gaussian(random, 2000 * d));
        float[] query = Reference.Gaussian(random, d);
        int[] expected = new int[5];
        matrix.Search(query, expected, new float[5]);

        using var stop = new CancellationTokenSource();
        Task<int>[] readers = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            int searches = 0;
            int[] indices = new int[5];
            float[] scores = new float[5];
            while (!stop.IsCancellationRequested || searches == 0)
            {
                matrix.Search(query, indices, scores);
                Assert.Equal(expected, indices);
                searches++;
            }

            return searches;
        }))];

        // Writers build new matrices (copy-on-write) that rank a new best row first; readers of the old one are unaffected.
        VectorMatrix latest = matrix;
        for (int i = 0; i < 20; i++)
        {
            latest = latest.Append([query]);
        }

        await stop.CancelAsync();
        int[] counts = await Task.WhenAll(readers);
        Assert.All(counts, c => Assert.True(c > 0));

        int[] top = new int[3];
        latest.Search(query, top, new float[3]);
        Assert.Equal([2000, 2001, 2002], top);
        Assert.Equal(2000, matrix.Count);
    }

    private static nint Address(ReadOnlySpan<float> span) => Unsafe.ByteOffset(ref Unsafe.NullRef<float>(), ref MemoryMarshal.GetReference(span));
}
