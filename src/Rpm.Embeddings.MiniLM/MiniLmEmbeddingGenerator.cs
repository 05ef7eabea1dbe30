using Microsoft.Extensions.AI;

namespace Rpm.Embeddings.MiniLM;

/// <summary>
/// An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over the local all-MiniLM-L6-v2 model (ONNX, 384 dimensions,
/// L2-normalized), shipped inside its NuGet package: no endpoint and no download at run time.
/// </summary>
/// <remarks>The model loads on first use (about a second). Thread-safe; passes run up to <see cref="MiniLmEmbeddingGeneratorOptions.MaxConcurrency"/> at a time.</remarks>
public sealed class MiniLmEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The model id reported in metadata and on every embedding.</summary>
    public const string ModelId = "all-MiniLM-L6-v2";

    /// <summary>The number of dimensions of every embedding.</summary>
    public const int Dimensions = 384;

    private readonly Lazy<MiniLmEncoder> _encoder = new(() => new MiniLmEncoder(Dimensions), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly SemaphoreSlim _gate;
    private readonly MiniLmEmbeddingGeneratorOptions _options;
    private readonly EmbeddingGeneratorMetadata _metadata = new("sentence-transformers-onnx", null, ModelId, Dimensions);
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="MiniLmEmbeddingGenerator"/> class.</summary>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public MiniLmEmbeddingGenerator(MiniLmEmbeddingGeneratorOptions? options = null)
    {
        _options = options ?? new MiniLmEmbeddingGeneratorOptions();
        _options.Validate();
        _gate = new SemaphoreSlim(_options.MaxConcurrency, _options.MaxConcurrency);
    }

    /// <inheritdoc />
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (options?.Dimensions is int requested && requested != Dimensions)
        {
            throw new ArgumentException($"{ModelId} produces {Dimensions} dimensions; {requested} were requested.", nameof(options));
        }

        string[] texts = [.. values];
        for (int i = 0; i < texts.Length; i++)
        {
            if (texts[i] is null)
            {
                throw new ArgumentException($"The text at position {i} is null.", nameof(values));
            }
        }

        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Length);
        DateTimeOffset created = DateTimeOffset.UtcNow;
        for (int start = 0; start < texts.Length; start += _options.MaxBatchSize)
        {
            string[] batch = texts[start..Math.Min(texts.Length, start + _options.MaxBatchSize)];
            float[][] vectors = await EncodeAsync(batch, cancellationToken).ConfigureAwait(false);
            foreach (float[] vector in vectors)
            {
                result.Add(new Embedding<float>(vector) { ModelId = ModelId, CreatedAt = created });
            }
        }

        return result;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_encoder.IsValueCreated)
        {
            _encoder.Value.Dispose();
        }

        _gate.Dispose();
    }

    private async Task<float[][]> EncodeAsync(string[] batch, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The encoder is synchronous and CPU-bound: keep it off the caller's thread.
            return await Task.Run(() => _encoder.Value.Encode(batch, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
