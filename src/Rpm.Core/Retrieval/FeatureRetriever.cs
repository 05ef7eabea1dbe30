using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Rpm.Simd;

namespace Rpm;

/// <summary>
/// The default <see cref="IFeatureRetriever"/>: embeds feature texts with any
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> (in batches) and searches each user's paths as one
/// contiguous normalized matrix with <see cref="CosineKernel"/>.
/// </summary>
public sealed class FeatureRetriever : IFeatureRetriever
{
    /// <summary>The text embedded for an input with no features, so that every item still has a key.</summary>
    internal const string NoFeaturesText = "(no features)";

    // One matrix per user-model instance; models are immutable, so a cached matrix never goes stale.
    private readonly ConditionalWeakTable<UserModel, VectorMatrix> _matrices = [];
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly RpmOptions _options;
    private readonly string? _modelId;

    /// <summary>Initializes a new instance of the <see cref="FeatureRetriever"/> class.</summary>
    /// <param name="embeddingGenerator">The embedding generator.</param>
    /// <param name="options">The options; validated here.</param>
    public FeatureRetriever(IEmbeddingGenerator<string, Embedding<float>> embeddingGenerator, RpmOptions options)
    {
        ArgumentNullException.ThrowIfNull(embeddingGenerator);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _generator = embeddingGenerator;
        _options = options;
        _modelId = embeddingGenerator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId;
    }

    /// <inheritdoc />
    public async Task<FeatureEmbeddings> EmbedAsync(IReadOnlyList<IReadOnlyList<Feature>> featureSets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(featureSets);
        var texts = new string[featureSets.Count];
        for (int i = 0; i < texts.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(featureSets[i], nameof(featureSets));
            string text = FeatureText.Compose(featureSets[i]);
            texts[i] = text.Length == 0 ? NoFeaturesText : text;
        }

        var vectors = new List<ReadOnlyMemory<float>>(texts.Length);
        string? modelId = _modelId;
        for (int start = 0; start < texts.Length; start += _options.EmbeddingBatchSize)
        {
            string[] batch = texts[start..Math.Min(texts.Length, start + _options.EmbeddingBatchSize)];
            GeneratedEmbeddings<Embedding<float>> embeddings = await _generator.GenerateAsync(batch, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (embeddings.Count != batch.Length)
            {
                throw new InvalidOperationException($"The embedding generator returned {embeddings.Count} embeddings for {batch.Length} texts.");
            }

            foreach (Embedding<float> embedding in embeddings)
            {
                modelId ??= embedding.ModelId;
                vectors.Add(embedding.Vector);
            }
        }

        return new FeatureEmbeddings(vectors, modelId);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RetrievedExample>> RetrieveAsync(UserModel userModel, IReadOnlyList<Feature> queryFeatures, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userModel);
        ArgumentNullException.ThrowIfNull(queryFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (userModel.Paths.Count == 0)
        {
            return [];
        }

        if (_modelId is not null && userModel.EmbeddingModelId is not null && !string.Equals(_modelId, userModel.EmbeddingModelId, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"The user model of '{userModel.UserId}' was indexed with embedding model '{userModel.EmbeddingModelId}', but the retriever uses '{_modelId}'. " +
                "Vectors of different models cannot be compared: rebuild or re-index the user model with the current embedding model.");
        }

        VectorMatrix matrix = _matrices.GetValue(userModel, CreateMatrix);
        FeatureEmbeddings query = await EmbedAsync([queryFeatures], cancellationToken).ConfigureAwait(false);
        ReadOnlyMemory<float> vector = query.Vectors[0];
        if (vector.Length != matrix.Dimensions)
        {
            throw new InvalidOperationException(
                $"The query embedding has {vector.Length} dimensions but the user model of '{userModel.UserId}' was indexed with {matrix.Dimensions}: the embedding model changed. Rebuild or re-index the user model.");
        }

        int k = Math.Min(count, matrix.Count);
        int[] indices = new int[k];
        float[] scores = new float[k];
        int found = matrix.Search(vector.Span, indices, scores);
        var examples = new RetrievedExample[found];
        for (int i = 0; i < found; i++)
        {
            examples[i] = new RetrievedExample(userModel.Paths[indices[i]], scores[i]);
        }

        return examples;
    }

    private static VectorMatrix CreateMatrix(UserModel model)
    {
        int dimensions = model.Paths[0].Embedding.Length;
        if (dimensions == 0 || model.Paths.Any(p => p.Embedding.Length != dimensions))
        {
            throw new InvalidOperationException($"The user model of '{model.UserId}' is not fully indexed: every reasoning path needs an embedding of the same length.");
        }

        return VectorMatrix.Create(dimensions, [.. model.Paths.Select(p => p.Embedding)]);
    }
}
