using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rpm.Embeddings.MiniLM;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the local MiniLM embedding generator.</summary>
public static class MiniLmServiceCollectionExtensions
{
    /// <summary>Registers <see cref="MiniLmEmbeddingGenerator"/> as the singleton <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of strings, unless one is already registered.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddMiniLmEmbeddingGenerator(this IServiceCollection services, Action<MiniLmEmbeddingGeneratorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new MiniLmEmbeddingGeneratorOptions();
        configure?.Invoke(options);
        options.Validate();
        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(_ => new MiniLmEmbeddingGenerator(options));
        return services;
    }
}
