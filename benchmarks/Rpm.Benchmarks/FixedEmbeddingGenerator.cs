using Microsoft.Extensions.AI;

namespace Rpm.Benchmarks;

/// <summary>An embedding generator that returns one precomputed vector for every text, so a retrieval benchmark measures retrieval alone.</summary>
public sealed class FixedEmbeddingGenerator(ReadOnlyMemory<float> vector) : IEmbeddingGenerator<string, Embedding<float>>
{
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (string _ in values)
        {
            result.Add(new Embedding<float>(vector));
        }

        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
