using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Rpm.Simd;

namespace Rpm.Benchmarks;

/// <summary>
/// The memory-bound regime: 1 000 000 rows of 384 floats (1.5 GB), far larger than any cache. The baseline only reads the
/// same bytes (a sum), so its time is what streaming them costs; a kernel's ratio to it is the share of that bandwidth it
/// reaches.
/// </summary>
[MemoryDiagnoser]
public class BandwidthKernelBenchmarks
{
    private const int Dimensions = 384;
    private const int K = 3;
    private VectorMatrix _matrix = null!;
    private float[] _query = [];
    private readonly int[] _indices = new int[K];
    private readonly float[] _scores = new float[K];

    [Params(1_000_000)]
    public int N { get; set; }

    // Each benchmark runs in its own process: build only what it reads (1.5 GB of normal values take a while).
    [GlobalSetup(Targets = [nameof(StreamFloatBytes), nameof(OursFloat)])]
    public void SetupFloat()
    {
        _matrix = VectorMatrix.Create(Dimensions, BenchmarkData.Gaussian(42, (long)N * Dimensions));
        _query = BenchmarkData.NormalizedQuery(7, Dimensions);
    }

    [Benchmark(Baseline = true)]
    public float StreamFloatBytes() => TensorPrimitives.Sum(_matrix.Rows);

    [Benchmark]
    public int OursFloat()
    {
        _matrix.Search(_query, _indices, _scores);
        return _indices[0];
    }
}
