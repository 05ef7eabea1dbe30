using Microsoft.Extensions.AI;

namespace Rpm.Benchmarks;

/// <summary>A deterministic bag-of-words embedding (hashed into 64 dimensions): retrieval only has to be stable here.</summary>
public sealed class HashingEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (string text in values)
        {
            var vector = new float[64];
            foreach (string token in text.ToLowerInvariant().Split([' ', ',', '.', ':', ';', '(', ')', '\n', '"'], StringSplitOptions.RemoveEmptyEntries))
            {
                vector[(int)((uint)string.GetHashCode(token, StringComparison.Ordinal) % 64)] += 1;
            }

            vector[63] += 0.01f;
            result.Add(new Embedding<float>(vector) { ModelId = "hashing-64" });
        }

        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
