using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Rpm;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers RPM with a service collection.</summary>
public static class RpmServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RpmPipeline"/> and its default stages over the <see cref="IChatClient"/> and
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> already in the container. Stages registered before this
    /// call are kept. The options are validated here, so a bad value fails at start-up.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <param name="chatClientKey">The service key of the chat client, or <see langword="null"/> for the unkeyed one.</param>
    /// <param name="embeddingGeneratorKey">The service key of the embedding generator, or <see langword="null"/> for the unkeyed one.</param>
    /// <returns>A builder to choose stores.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public static RpmBuilder AddRpm(this IServiceCollection services, Action<RpmOptions>? configure = null, object? chatClientKey = null, object? embeddingGeneratorKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new RpmOptions();
        configure?.Invoke(options);
        options.Validate();

        services.TryAddSingleton(options);
        services.TryAddSingleton<IFeatureExtractor>(sp => new FeatureExtractor(ChatClient(sp, chatClientKey), options, sp.GetService<ILoggerFactory>(), sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IFactorConstructor>(sp => new FactorConstructor(ChatClient(sp, chatClientKey), options, sp.GetService<ILoggerFactory>(), sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IStatisticsBuilder, StatisticsBuilder>();
        services.TryAddSingleton<IReasoningPathBuilder>(sp => new ReasoningPathBuilder(ChatClient(sp, chatClientKey), options, sp.GetService<ILoggerFactory>(), sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IFeatureRetriever>(sp => new FeatureRetriever(EmbeddingGenerator(sp, embeddingGeneratorKey), options));
        services.TryAddSingleton<IUserModelStore, InMemoryUserModelStore>();
        services.TryAddSingleton<IBuildCheckpointStore, InMemoryBuildCheckpointStore>();
        services.TryAddSingleton(sp => new RpmPipeline(
            ChatClient(sp, chatClientKey),
            sp.GetRequiredService<IFeatureExtractor>(),
            sp.GetRequiredService<IFactorConstructor>(),
            sp.GetRequiredService<IStatisticsBuilder>(),
            sp.GetRequiredService<IReasoningPathBuilder>(),
            sp.GetRequiredService<IFeatureRetriever>(),
            sp.GetRequiredService<IUserModelStore>(),
            sp.GetRequiredService<IBuildCheckpointStore>(),
            options,
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IMeterFactory>()));
        return new RpmBuilder(services, options, chatClientKey, embeddingGeneratorKey);
    }

    private static IChatClient ChatClient(IServiceProvider services, object? key) =>
        (key is null ? services.GetService<IChatClient>() : services.GetKeyedService<IChatClient>(key))
        ?? throw new InvalidOperationException(
            key is null
                ? "RPM needs an IChatClient in the container: register one with services.AddChatClient(...) before resolving RpmPipeline."
                : $"RPM needs an IChatClient registered with the key '{key}': register one with services.AddKeyedChatClient(\"{key}\", ...).");

    private static IEmbeddingGenerator<string, Embedding<float>> EmbeddingGenerator(IServiceProvider services, object? key) =>
        (key is null
            ? services.GetService<IEmbeddingGenerator<string, Embedding<float>>>()
            : services.GetKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(key))
        ?? throw new InvalidOperationException(
            key is null
                ? "RPM needs an IEmbeddingGenerator<string, Embedding<float>> in the container: register one with services.AddEmbeddingGenerator(...) before resolving RpmPipeline."
                : $"RPM needs an IEmbeddingGenerator<string, Embedding<float>> registered with the key '{key}': register one with services.AddKeyedEmbeddingGenerator(\"{key}\", ...).");
}
