using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rpm;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers RPM with a service collection.</summary>
/// <remarks>
/// <para>
/// <see cref="RpmOptions"/> follow the options pattern: each call adds its configuration (a section bound with
/// <c>Bind</c>, then the delegate) to the pipeline's options, in call order, so a later call's values win where both set
/// one. The options are validated with <see cref="RpmOptions.Validate"/> when the pipeline is first resolved, and at
/// host start-up (<c>ValidateOnStart</c>); an invalid value throws <see cref="OptionsValidationException"/> naming it.
/// The chat-client and embedding-generator keys of the last call are the ones used.
/// </para>
/// <para>
/// Default stages are registered only when the application has not registered its own (by key for keyed pipelines).
/// </para>
/// </remarks>
public static class RpmServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RpmPipeline"/> and its default stages over the <see cref="IChatClient"/> and
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> already in the container.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options, or <see langword="null"/>.</param>
    /// <param name="chatClientKey">The service key of the chat client, or <see langword="null"/> for the unkeyed one.</param>
    /// <param name="embeddingGeneratorKey">The service key of the embedding generator, or <see langword="null"/> for the unkeyed one.</param>
    /// <returns>A builder to choose stores and add options configuration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static RpmBuilder AddRpm(this IServiceCollection services, Action<RpmOptions>? configure = null, object? chatClientKey = null, object? embeddingGeneratorKey = null) =>
        Register(services, serviceKey: null, configuration: null, configure, chatClientKey, embeddingGeneratorKey);

    /// <summary>
    /// Registers <see cref="RpmPipeline"/> as <see cref="AddRpm(IServiceCollection, Action{RpmOptions}?, object?, object?)"/>
    /// does, with its options bound from a configuration section (for example <c>configuration.GetSection("Rpm")</c>,
    /// whose keys are <see cref="RpmOptions"/> property names: <c>"Rpm": { "RetrievalCount": 3, "MaxConcurrency": 8 }</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section to bind.</param>
    /// <param name="configure">Sets further options after binding, or <see langword="null"/>.</param>
    /// <param name="chatClientKey">The service key of the chat client, or <see langword="null"/> for the unkeyed one.</param>
    /// <param name="embeddingGeneratorKey">The service key of the embedding generator, or <see langword="null"/> for the unkeyed one.</param>
    /// <returns>A builder to choose stores and add options configuration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is <see langword="null"/>.</exception>
    public static RpmBuilder AddRpm(this IServiceCollection services, IConfiguration configuration, Action<RpmOptions>? configure = null, object? chatClientKey = null, object? embeddingGeneratorKey = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, serviceKey: null, configuration, configure, chatClientKey, embeddingGeneratorKey);
    }

    /// <summary>
    /// Registers a keyed <see cref="RpmPipeline"/>, for several pipelines in one app (one per task, or per model): its
    /// default stages, in-memory stores and options (named <see cref="GetOptionsName"/>) are keyed by
    /// <paramref name="serviceKey"/>, so two pipelines never share user models. Resolve it with
    /// <c>GetRequiredKeyedService&lt;RpmPipeline&gt;(serviceKey)</c> or <c>[FromKeyedServices(serviceKey)]</c>; chat
    /// middleware picks it with <c>UseRpm(pipelineKey: serviceKey)</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key of this pipeline.</param>
    /// <param name="configure">Sets the options, or <see langword="null"/>.</param>
    /// <param name="chatClientKey">The service key of the chat client, or <see langword="null"/> for the unkeyed one.</param>
    /// <param name="embeddingGeneratorKey">The service key of the embedding generator, or <see langword="null"/> for the unkeyed one.</param>
    /// <returns>A builder to choose this pipeline's stores and add options configuration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="serviceKey"/> is <see langword="null"/>.</exception>
    public static RpmBuilder AddKeyedRpm(this IServiceCollection services, object serviceKey, Action<RpmOptions>? configure = null, object? chatClientKey = null, object? embeddingGeneratorKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        return Register(services, serviceKey, configuration: null, configure, chatClientKey, embeddingGeneratorKey);
    }

    /// <summary>Registers a keyed <see cref="RpmPipeline"/> as <see cref="AddKeyedRpm(IServiceCollection, object, Action{RpmOptions}?, object?, object?)"/> does, with its options bound from a configuration section.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key of this pipeline.</param>
    /// <param name="configuration">The section to bind.</param>
    /// <param name="configure">Sets further options after binding, or <see langword="null"/>.</param>
    /// <param name="chatClientKey">The service key of the chat client, or <see langword="null"/> for the unkeyed one.</param>
    /// <param name="embeddingGeneratorKey">The service key of the embedding generator, or <see langword="null"/> for the unkeyed one.</param>
    /// <returns>A builder to choose this pipeline's stores and add options configuration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/>, <paramref name="serviceKey"/> or <paramref name="configuration"/> is <see langword="null"/>.</exception>
    public static RpmBuilder AddKeyedRpm(this IServiceCollection services, object serviceKey, IConfiguration configuration, Action<RpmOptions>? configure = null, object? chatClientKey = null, object? embeddingGeneratorKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, serviceKey, configuration, configure, chatClientKey, embeddingGeneratorKey);
    }

    /// <summary>Gets the name of the <see cref="RpmOptions"/> of a pipeline: <c>Options.DefaultName</c> (empty) for the unkeyed one, the key's invariant string for a keyed one.</summary>
    /// <param name="serviceKey">The pipeline's service key, or <see langword="null"/>.</param>
    /// <returns>The options name, for <c>IOptionsMonitor&lt;RpmOptions&gt;.Get(name)</c> or <c>services.Configure&lt;RpmOptions&gt;(name, ...)</c>.</returns>
    internal static string GetOptionsName(object? serviceKey) =>
        serviceKey is null ? Options.Options.DefaultName : "Rpm:" + Convert.ToString(serviceKey, CultureInfo.InvariantCulture);

    private static RpmBuilder Register(IServiceCollection services, object? serviceKey, IConfiguration? configuration, Action<RpmOptions>? configure, object? chatClientKey, object? embeddingGeneratorKey)
    {
        ArgumentNullException.ThrowIfNull(services);
        string name = GetOptionsName(serviceKey);
        OptionsBuilder<RpmOptions> options = services.AddOptions<RpmOptions>(name);
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RpmOptions>, RpmOptionsValidator>());

        // The last call's keys win: a registration record replaces the previous one and the factories read it.
        var registration = new RpmRegistration(name, chatClientKey, embeddingGeneratorKey);
        if (serviceKey is null)
        {
            services.Replace(ServiceDescriptor.Singleton(registration));
        }
        else
        {
            services.RemoveAllKeyed<RpmRegistration>(serviceKey);
            services.AddKeyedSingleton(serviceKey, registration);
        }

        TryAdd<IFeatureExtractor>(services, serviceKey, (sp, r) => new FeatureExtractor(ChatClient(sp, r), OptionsOf(sp, r), sp.GetService<ILoggerFactory>(), sp.GetService<IMeterFactory>()));
        TryAdd<IFactorConstructor>(services, serviceKey, (sp, r) => new FactorConstructor(ChatClient(sp, r), OptionsOf(sp, r), sp.GetService<ILoggerFactory>(), sp.GetService<IMeterFactory>()));
        TryAdd<IStatisticsBuilder>(services, serviceKey, (_, _) => new StatisticsBuilder());
        TryAdd<IReasoningPathBuilder>(services, serviceKey, (sp, r) => new ReasoningPathBuilder(ChatClient(sp, r), OptionsOf(sp, r), sp.GetService<ILoggerFactory>(), sp.GetService<IMeterFactory>()));
        TryAdd<IInfluenceJudge>(services, serviceKey, (sp, r) => new InfluenceJudge(ChatClient(sp, r), OptionsOf(sp, r), sp.GetService<ILoggerFactory>(), sp.GetService<IMeterFactory>()));
        TryAdd<IFeatureRetriever>(services, serviceKey, (sp, r) => new FeatureRetriever(EmbeddingGenerator(sp, r), OptionsOf(sp, r)));
        TryAdd<IUserModelStore>(services, serviceKey, (_, _) => new InMemoryUserModelStore());
        TryAdd<IBuildCheckpointStore>(services, serviceKey, (_, _) => new InMemoryBuildCheckpointStore());
        TryAdd(services, serviceKey, (sp, r) => new RpmPipeline(
            ChatClient(sp, r),
            Get<IFeatureExtractor>(sp, serviceKey),
            Get<IFactorConstructor>(sp, serviceKey),
            Get<IStatisticsBuilder>(sp, serviceKey),
            Get<IReasoningPathBuilder>(sp, serviceKey),
            Get<IFeatureRetriever>(sp, serviceKey),
            Get<IUserModelStore>(sp, serviceKey),
            Get<IBuildCheckpointStore>(sp, serviceKey),
            OptionsOf(sp, r),
            Get<IInfluenceJudge>(sp, serviceKey),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IMeterFactory>()));
        return new RpmBuilder(services, serviceKey, options, chatClientKey, embeddingGeneratorKey);
    }

    private static void TryAdd<T>(IServiceCollection services, object? serviceKey, Func<IServiceProvider, RpmRegistration, T> factory)
        where T : class
    {
        if (serviceKey is null)
        {
            services.TryAddSingleton(sp => factory(sp, sp.GetRequiredService<RpmRegistration>()));
        }
        else
        {
            services.TryAddKeyedSingleton(serviceKey, (sp, key) => factory(sp, sp.GetRequiredKeyedService<RpmRegistration>(key)));
        }
    }

    private static T Get<T>(IServiceProvider services, object? serviceKey)
        where T : notnull =>
        serviceKey is null ? services.GetRequiredService<T>() : services.GetRequiredKeyedService<T>(serviceKey);

    private static RpmOptions OptionsOf(IServiceProvider services, RpmRegistration registration) =>
        services.GetRequiredService<IOptionsMonitor<RpmOptions>>().Get(registration.OptionsName);

    private static IChatClient ChatClient(IServiceProvider services, RpmRegistration registration)
    {
        object? key = registration.ChatClientKey;
        return (key is null ? services.GetService<IChatClient>() : services.GetKeyedService<IChatClient>(key))
            ?? throw new InvalidOperationException(
                key is null
                    ? "RPM needs an IChatClient in the container: register one with services.AddChatClient(...) before resolving RpmPipeline."
                    : $"RPM needs an IChatClient registered with the key '{key}': register one with services.AddKeyedChatClient(\"{key}\", ...).");
    }

    private static IEmbeddingGenerator<string, Embedding<float>> EmbeddingGenerator(IServiceProvider services, RpmRegistration registration)
    {
        object? key = registration.EmbeddingGeneratorKey;
        return (key is null
                ? services.GetService<IEmbeddingGenerator<string, Embedding<float>>>()
                : services.GetKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(key))
            ?? throw new InvalidOperationException(
                key is null
                    ? "RPM needs an IEmbeddingGenerator<string, Embedding<float>> in the container: register one with services.AddEmbeddingGenerator(...) (or the local model: services.AddMiniLmEmbeddingGenerator() from Rpm.Embeddings.MiniLM) before resolving RpmPipeline."
                    : $"RPM needs an IEmbeddingGenerator<string, Embedding<float>> registered with the key '{key}': register one with services.AddKeyedEmbeddingGenerator(\"{key}\", ...).");
    }
}
