using System.Text.Json;
using Microsoft.Extensions.AI;
using Rpm.Simd;
using Xunit.Abstractions;

namespace Rpm.Tests.Retrieval;

/// <summary>Recall of the compact search on real MiniLM embeddings of the MovieLens sample's titles.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class MiniLmRecallTests(MiniLmFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Compact_search_on_real_embeddings_is_exact_after_the_rescore()
    {
        // 800 unique profile titles as the corpus, 60 questions' movies as queries (about 6 s of embedding on 2 cores).
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestData.DataDirectory, "movielens-ratings", "questions.json")));
        JsonElement[] questions = [.. document.RootElement.EnumerateArray()];
        string[] corpus = [.. questions.SelectMany(q => q.GetProperty("profile").EnumerateArray().Select(p => p.GetProperty("text").GetString()!)).Distinct(StringComparer.Ordinal).Take(800)];
        string[] queries = [.. questions.Take(60).Select(q => q.GetProperty("input").GetString()!).Select(i => i[(i.LastIndexOf("movie: ", StringComparison.Ordinal) + 7)..])];

        GeneratedEmbeddings<Embedding<float>> corpusEmbeddings = await fixture.Generator.GenerateAsync(corpus);
        GeneratedEmbeddings<Embedding<float>> queryEmbeddings = await fixture.Generator.GenerateAsync(queries);
        VectorMatrix exact = VectorMatrix.Create(384, [.. corpusEmbeddings.Select(e => e.Vector)]);
        float[][] queryVectors = [.. queryEmbeddings.Select(e => e.Vector.ToArray())];

        foreach (int k in new[] { 3, 10 })
        {
            QuantizedVectorMatrixTests.RecallResult result = QuantizedVectorMatrixTests.MeasureRecall(exact, queryVectors, k);
            output.WriteLine($"MiniLM {exact.Count} titles, {queryVectors.Length} queries, K={k}: {result}");
            Assert.Equal(1.0, result.Recall);
            Assert.Equal(queryVectors.Length, result.Identical);
            Assert.InRange(result.ApproximateRecall, 0.8, 1.0);
        }
    }
}
