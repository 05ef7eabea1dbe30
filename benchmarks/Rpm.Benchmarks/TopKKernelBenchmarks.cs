using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Rpm.Simd;

namespace Rpm.Benchmarks;

/// <summary>One query against N normalized rows of 384 dimensions, top 3.</summary>
[MemoryDiagnoser]
public class TopKKernelBenchmarks
{
    private const int Dimensions = 384;
    private const int K = 3;
    private VectorMatrix _matrix = null!;
    private float[] _query = [];
    private readonly int[] _indices = new int[K];
    private readonly float[] _scores = new float[K];

    [Params(100, 1_000, 10_000, 100_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _matrix = VectorMatrix.Create(Dimensions, BenchmarkData.Gaussian(42, (long)N * Dimensions));
        _query = BenchmarkData.NormalizedQuery(7, Dimensions);
    }

    /// <summary>What the in-memory vector store of the .NET ecosystem does: score every record, then sort.</summary>
    [Benchmark(Baseline = true)]
    public int CosineSimilarityAndSort()
    {
        ReadOnlySpan<float> rows = _matrix.Rows;
        var scores = new float[N];
        var indices = new int[N];
        for (int i = 0; i < N; i++)
        {
            scores[i] = -TensorPrimitives.CosineSimilarity(_query, rows.Slice(i * Dimensions, Dimensions));
            indices[i] = i;
        }

        Array.Sort(scores, indices);
        return indices[0] + indices[1] + indices[2];
    }

    /// <summary>The best plain-BCL alternative: a dot product per row (rows are normalized) and a bounded heap.</summary>
    [Benchmark]
    public int DotAndHeap()
    {
        ReadOnlySpan<float> rows = _matrix.Rows;
        var heap = new PriorityQueue<int, float>(K + 1);
        for (int i = 0; i < N; i++)
        {
            float score = TensorPrimitives.Dot(_query, rows.Slice(i * Dimensions, Dimensions));
            if (heap.Count < K)
            {
                heap.Enqueue(i, score);
            }
            else if (heap.TryPeek(out _, out float worst) && score > worst)
            {
                heap.DequeueEnqueue(i, score);
            }
        }

        int sum = 0;
        while (heap.TryDequeue(out int index, out _))
        {
            sum += index;
        }

        return sum;
    }

    /// <summary>Not a top-K: only reads the same bytes, to show how close each method is to the cost of reading them.</summary>
    [Benchmark]
    public float StreamRows() => TensorPrimitives.Sum(_matrix.Rows);

    [Benchmark]
    public int Ours()
    {
        _matrix.Search(_query, _indices, _scores);
        return _indices[0] + _indices[1] + _indices[2];
    }
}
