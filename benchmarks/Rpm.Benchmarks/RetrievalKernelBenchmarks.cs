using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;

namespace Rpm.Benchmarks;

/// <summary>
/// End-to-end retrieval for one user (embedding excluded: the generator returns a precomputed vector):
/// <see cref="FeatureRetriever.RetrieveAsync"/> against what a retriever without the kernel would do with the same
/// user model — cosine similarity of the query with each path's embedding, then a sort.
/// </summary>
[MemoryDiagnoser]
public class RetrievalKernelBenchmarks
{
    private const int Dimensions = 384;
    private const int Count = 3;
    private UserModel _model = null!;
    private FeatureRetriever _retriever = null!;
    private float[] _queryVector = [];
    private readonly IReadOnlyList<Feature> _queryFeatures = [new Feature("genre", "Comedy, Romance")];

    [Params(100, 1_000)]
    public int HistoryItems { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        float[] embeddings = BenchmarkData.Gaussian(42, (long)HistoryItems * Dimensions);
        var paths = new List<ReasoningPath>(HistoryItems);
        for (int i = 0; i < HistoryItems; i++)
        {
            var item = new HistoryItem($"item-{i}", $"Movie {i} (1999). Genres: Comedy.", "4");
            paths.Add(new ReasoningPath(item, [new Feature("genre", "Comedy")], "Likes comedies.", embeddings.AsMemory(i * Dimensions, Dimensions)));
        }

        _model = new UserModel("user", RpmTask.Rating("r", "Rate the movie.", new RatingScale(1, 5, 1)), [], paths);
        _queryVector = BenchmarkData.Gaussian(7, Dimensions);
        _retriever = new FeatureRetriever(new FixedEmbeddingGenerator(_queryVector), new RpmOptions());

        // The retriever builds its matrix on the first call and keeps it for the (immutable) model: measure the steady state.
        _ = _retriever.RetrieveAsync(_model, _queryFeatures, Count).GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public RetrievedExample[] CosineSimilarityAndSort()
    {
        IReadOnlyList<ReasoningPath> paths = _model.Paths;
        var scored = new (float Score, int Index)[paths.Count];
        for (int i = 0; i < scored.Length; i++)
        {
            scored[i] = (TensorPrimitives.CosineSimilarity(_queryVector, paths[i].Embedding.Span), i);
        }

        Array.Sort(scored, static (a, b) => b.Score.CompareTo(a.Score));
        var result = new RetrievedExample[Count];
        for (int i = 0; i < Count; i++)
        {
            result[i] = new RetrievedExample(paths[scored[i].Index], scored[i].Score);
        }

        return result;
    }

    [Benchmark]
    public Task<IReadOnlyList<RetrievedExample>> FeatureRetrieverRetrieveAsync() => _retriever.RetrieveAsync(_model, _queryFeatures, Count);
}
