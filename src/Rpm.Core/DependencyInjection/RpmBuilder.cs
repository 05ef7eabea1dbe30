using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Rpm;

/// <summary>Configures the RPM services registered by <c>AddRpm</c> or <c>AddKeyedRpm</c>; storage packages add their <c>Use...Store</c> methods here.</summary>
public sealed class RpmBuilder
{
    internal RpmBuilder(IServiceCollection services, object? serviceKey, OptionsBuilder<RpmOptions> options, object? chatClientKey, object? embeddingGeneratorKey)
    {
        Services = services;
        ServiceKey = serviceKey;
        Options = options;
        ChatClientKey = chatClientKey;
        EmbeddingGeneratorKey = embeddingGeneratorKey;
    }

    /// <summary>Gets the service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Gets the service key of the pipeline (<c>AddKeyedRpm</c>), or <see langword="null"/> for the unkeyed one (<c>AddRpm</c>).</summary>
    public object? ServiceKey { get; }

    /// <summary>
    /// Gets the options builder of this pipeline's <see cref="RpmOptions"/> (named <see cref="RpmServiceCollectionExtensions.GetOptionsName"/>
    /// of the service key), to add configuration or validation: <c>builder.Options.Configure(...)</c>.
    /// </summary>
    public OptionsBuilder<RpmOptions> Options { get; }

    /// <summary>Gets the service key of the chat client this call registered, or <see langword="null"/> for the unkeyed one.</summary>
    internal object? ChatClientKey { get; }

    /// <summary>Gets the service key of the embedding generator this call registered, or <see langword="null"/> for the unkeyed one.</summary>
    internal object? EmbeddingGeneratorKey { get; }

    /// <summary>Replaces the user-model store (in memory by default) of this pipeline (keyed by <see cref="ServiceKey"/> when it has one).</summary>
    /// <param name="factory">Creates the store.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    public RpmBuilder UseUserModelStore(Func<IServiceProvider, IUserModelStore> factory) => Use(factory);

    /// <summary>Replaces the build checkpoint store (in memory by default) of this pipeline (keyed by <see cref="ServiceKey"/> when it has one).</summary>
    /// <param name="factory">Creates the store.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    public RpmBuilder UseCheckpointStore(Func<IServiceProvider, IBuildCheckpointStore> factory) => Use(factory);

    private RpmBuilder Use<T>(Func<IServiceProvider, T> factory)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (ServiceKey is null)
        {
            Services.RemoveAll<T>();
            Services.AddSingleton(factory);
        }
        else
        {
            Services.RemoveAllKeyed<T>(ServiceKey);
            Services.AddKeyedSingleton<T>(ServiceKey, (sp, _) => factory(sp));
        }

        return this;
    }
}
