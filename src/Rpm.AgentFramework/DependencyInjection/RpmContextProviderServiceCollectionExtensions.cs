using Rpm;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="RpmContextProvider"/> with a service collection.</summary>
public static class RpmContextProviderServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RpmContextProvider"/> as a singleton over the <see cref="RpmPipeline"/> registered with
    /// <c>AddRpm</c> (or <c>AddKeyedRpm</c> when <paramref name="pipelineKey"/> is given), for an agent built from the
    /// container: <c>new ChatClientAgent(chatClient, new ChatClientAgentOptions { AIContextProviders = [sp.GetRequiredService&lt;RpmContextProvider&gt;()] })</c>.
    /// The options are validated here, so a provider that names no user fails at start-up.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; must set <see cref="RpmContextProviderOptions.UserId"/> or <see cref="RpmContextProviderOptions.UserIdResolver"/>.</param>
    /// <param name="pipelineKey">The service key of the pipeline, or <see langword="null"/> for the unkeyed one.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The options name no user, <see cref="RpmContextProviderOptions.UserId"/> is blank, or the mode is not defined.</exception>
    /// <exception cref="InvalidOperationException">When the provider is resolved: no pipeline is registered (with that key).</exception>
    public static IServiceCollection AddRpmContextProvider(this IServiceCollection services, Action<RpmContextProviderOptions> configure, object? pipelineKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new RpmContextProviderOptions();
        configure(options);
        options.Validate(nameof(configure));
        services.AddSingleton(sp => new RpmContextProvider(ResolvePipeline(sp, pipelineKey), options));
        return services;
    }

    private static RpmPipeline ResolvePipeline(IServiceProvider services, object? key) =>
        (key is null ? services.GetService<RpmPipeline>() : services.GetKeyedService<RpmPipeline>(key))
        ?? throw new InvalidOperationException(
            key is null
                ? "RpmContextProvider needs an RpmPipeline in the container: call services.AddRpm(...)."
                : $"AddRpmContextProvider(pipelineKey: \"{key}\") needs an RpmPipeline registered with that key: call services.AddKeyedRpm(\"{key}\", ...).");
}
