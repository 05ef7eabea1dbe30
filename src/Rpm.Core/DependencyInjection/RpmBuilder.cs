using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Rpm;

/// <summary>Configures the RPM services registered by <c>AddRpm</c>; storage packages add their <c>Use...Store</c> methods here.</summary>
public sealed class RpmBuilder
{
    internal RpmBuilder(IServiceCollection services, RpmOptions options, object? chatClientKey, object? embeddingGeneratorKey)
    {
        Services = services;
        Options = options;
        ChatClientKey = chatClientKey;
        EmbeddingGeneratorKey = embeddingGeneratorKey;
    }

    /// <summary>Gets the service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Gets the validated options the services were registered with.</summary>
    public RpmOptions Options { get; }

    /// <summary>Gets the service key of the chat client, or <see langword="null"/> for the unkeyed one.</summary>
    public object? ChatClientKey { get; }

    /// <summary>Gets the service key of the embedding generator, or <see langword="null"/> for the unkeyed one.</summary>
    public object? EmbeddingGeneratorKey { get; }

    /// <summary>Replaces the user-model store (in memory by default).</summary>
    /// <param name="factory">Creates the store.</param>
    /// <returns>This builder.</returns>
    public RpmBuilder UseUserModelStore(Func<IServiceProvider, IUserModelStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.RemoveAll<IUserModelStore>();
        Services.AddSingleton(factory);
        return this;
    }

    /// <summary>Replaces the build checkpoint store (in memory by default).</summary>
    /// <param name="factory">Creates the store.</param>
    /// <returns>This builder.</returns>
    public RpmBuilder UseCheckpointStore(Func<IServiceProvider, IBuildCheckpointStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.RemoveAll<IBuildCheckpointStore>();
        Services.AddSingleton(factory);
        return this;
    }
}
