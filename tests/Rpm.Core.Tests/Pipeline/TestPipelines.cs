using Microsoft.Extensions.AI;
using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

/// <summary>Pipelines over the fake chat model and the real MiniLM embeddings.</summary>
public static class TestPipelines
{
    public static RpmPipeline Create(
        FakeChatClient chat,
        IEmbeddingGenerator<string, Embedding<float>> embeddings,
        Action<RpmOptions>? configure = null,
        IUserModelStore? store = null,
        IBuildCheckpointStore? checkpoints = null)
    {
        var options = new RpmOptions();
        configure?.Invoke(options);
        return new RpmPipeline(
            chat,
            new FeatureExtractor(chat, options),
            new FactorConstructor(chat, options),
            new StatisticsBuilder(),
            new ReasoningPathBuilder(chat, options),
            new FeatureRetriever(embeddings, options),
            store ?? new InMemoryUserModelStore(),
            checkpoints ?? new InMemoryBuildCheckpointStore(),
            options);
    }

    public static RpmTask Rating { get; } = TestData.MovieRating;

    /// <summary>A small movie history with a clear taste: high ratings for sci-fi, low for romance.</summary>
    public static List<HistoryItem> MovieHistory(int count = 8)
    {
        return [.. TestData.SampleMovies.Take(count).Select((m, i) => new HistoryItem($"h{i}", m, m.Contains("Sci-Fi", StringComparison.Ordinal) ? "4.5" : "1.5"))];
    }
}
