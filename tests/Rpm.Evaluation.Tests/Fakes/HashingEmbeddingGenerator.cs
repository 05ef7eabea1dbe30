using Microsoft.Extensions.AI;

namespace Rpm.Evaluation.Tests.Fakes;

/// <summary>A deterministic bag-of-words embedding (64 hashed dimensions) for fast tests; records every text it embeds.</summary>
public sealed class HashingEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly List<string> _inputs = [];

    public IReadOnlyList<string> Inputs
    {
        get
        {
            lock (_inputs)
            {
                return [.. _inputs];
            }
        }
    }

    public static float[] Embed(string text)
    {
        var vector = new float[64];
        foreach (string token in RougeScorer.Tokenize(text))
        {
            vector[(int)((uint)StableHash(token) % 64)] += 1;
        }

        vector[63] += 0.01f; // never a zero vector
        return vector;
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        List<string> list = [.. values];
        lock (_inputs)
        {
            _inputs.AddRange(list);
        }

        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(list.Select(t => new Embedding<float>(Embed(t)) { ModelId = "hashing-64" })));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("hashing", null, "hashing-64", 64) : serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private static int StableHash(string text)
    {
        unchecked
        {
            int hash = 17;
            foreach (char c in text)
            {
                hash = (hash * 31) + c;
            }

            return hash;
        }
    }
}
