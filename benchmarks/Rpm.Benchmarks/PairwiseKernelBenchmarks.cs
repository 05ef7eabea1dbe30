using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Rpm.Simd;

namespace Rpm.Benchmarks;

/// <summary>Cosine similarity of two vectors that are not normalized.</summary>
[MemoryDiagnoser]
public class PairwiseKernelBenchmarks
{
    private float[] _x = [];
    private float[] _y = [];

    [Params(384, 768, 1536)]
    public int Dimensions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _x = BenchmarkData.Gaussian(1, Dimensions);
        _y = BenchmarkData.Gaussian(2, Dimensions);
    }

    [Benchmark(Baseline = true)]
    public float TensorPrimitivesCosine() => TensorPrimitives.CosineSimilarity(_x, _y);

    [Benchmark]
    public float ScalarLoop()
    {
        float dot = 0, xx = 0, yy = 0;
        float[] x = _x, y = _y;
        for (int i = 0; i < x.Length; i++)
        {
            dot += x[i] * y[i];
            xx += x[i] * x[i];
            yy += y[i] * y[i];
        }

        return dot / MathF.Sqrt(xx * yy);
    }

    [Benchmark]
    public float Ours() => CosineKernel.CosineSimilarity(_x, _y);
}
