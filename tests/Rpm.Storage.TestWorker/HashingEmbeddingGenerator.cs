using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace Rpm.Storage.TestWorker;

/// <summary>A deterministic stand-in embedding model for child processes (no model to load): 32 dimensions from a hash of the text.</summary>
public sealed class HashingEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ModelId = "hashing-32";

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (string value in values)
        {
            byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(value));
            float[] vector = new float[32];
            for (int i = 0; i < vector.Length; i++)
            {
                vector[i] = (hash[i] - 127.5f) / 128f;
            }

            result.Add(new Embedding<float>(vector) { ModelId = ModelId });
        }

        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("hashing", null, ModelId, 32)
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }
}
