namespace Rpm.Embeddings.MiniLM;

/// <summary>Options of <see cref="MiniLmEmbeddingGenerator"/>.</summary>
public sealed class MiniLmEmbeddingGeneratorOptions
{
    /// <summary>Gets or sets the most sentences encoded in one pass of the model. Default 32.</summary>
    public int MaxBatchSize { get; set; } = 32;

    /// <summary>
    /// Gets or sets how many passes may run at once. Default 1: the model already uses every core for one pass.
    /// Passes share one ONNX Runtime session, whose runs may overlap, so a higher value is safe (tested).
    /// </summary>
    public int MaxConcurrency { get; set; } = 1;

    internal void Validate()
    {
        if (MaxBatchSize is < 1 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "MaxBatchSize must be between 1 and 1,024.");
        }

        if (MaxConcurrency is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, "MaxConcurrency must be between 1 and 64.");
        }
    }
}
