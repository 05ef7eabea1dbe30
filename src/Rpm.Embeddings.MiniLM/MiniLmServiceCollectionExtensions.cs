using Microsoft.Extensions.AI;
using Rpm.Embeddings.MiniLM;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the local MiniLM embedding generator.</summary>
public static class MiniLmServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="MiniLmEmbeddingGenerator"/> as the singleton <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>
    /// of strings, as <c>AddEmbeddingGenerator</c> does (a later registration wins), and returns the builder so that
    /// middleware chains onto it: <c>services.AddMiniLmEmbeddingGenerator().UseDistributedCache().UseOpenTelemetry()</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The embedding-generator builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static EmbeddingGeneratorBuilder<string, Embedding<float>> AddMiniLmEmbeddingGenerator(this IServiceCollection services, Action<MiniLmEmbeddingGeneratorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        MiniLmEmbeddingGeneratorOptions options = Options(configure);
        return services.AddEmbeddingGenerator<string, Embedding<float>>(_ => new MiniLmEmbeddingGenerator(options));
    }

    /// <summary>Registers <see cref="MiniLmEmbeddingGenerator"/> as a keyed singleton <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of strings, and returns the builder.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The service key (pass it to <c>AddRpm(embeddingGeneratorKey: ...)</c>).</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The embedding-generator builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="serviceKey"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static EmbeddingGeneratorBuilder<string, Embedding<float>> AddKeyedMiniLmEmbeddingGenerator(this IServiceCollection services, object serviceKey, Action<MiniLmEmbeddingGeneratorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        MiniLmEmbeddingGeneratorOptions options = Options(configure);
        return services.AddKeyedEmbeddingGenerator<string, Embedding<float>>(serviceKey, _ => new MiniLmEmbeddingGenerator(options));
    }

    private static MiniLmEmbeddingGeneratorOptions Options(Action<MiniLmEmbeddingGeneratorOptions>? configure)
    {
        var options = new MiniLmEmbeddingGeneratorOptions();
        configure?.Invoke(options);

        // Fail at registration, not at first use, when an option is out of range.
        options.Validate();
        return options;
    }
}
