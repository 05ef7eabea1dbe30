using Rpm;

namespace Microsoft.Extensions.AI;

/// <summary>Adds <see cref="RpmChatClient"/> to a chat pipeline.</summary>
public static class RpmChatClientBuilderExtensions
{
    /// <summary>
    /// Adds RPM personalization to the pipeline, over the <see cref="RpmPipeline"/> registered with <c>AddRpm</c> (or
    /// <c>AddKeyedRpm</c> when <paramref name="pipelineKey"/> is given). The pipeline is resolved at the first request,
    /// so the pipeline may itself use the chat client this builder registers.
    /// </summary>
    /// <param name="builder">The chat client builder.</param>
    /// <param name="configure">Sets the options, or <see langword="null"/> for the defaults.</param>
    /// <param name="pipelineKey">The service key of the pipeline, or <see langword="null"/> for the unkeyed one.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">At the first request: no pipeline is registered (with that key).</exception>
    public static ChatClientBuilder UseRpm(this ChatClientBuilder builder, Action<RpmChatClientOptions>? configure = null, object? pipelineKey = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) =>
        {
            var options = new RpmChatClientOptions();
            configure?.Invoke(options);
            return new RpmChatClient(inner, new Lazy<RpmPipeline>(() => ResolvePipeline(services, pipelineKey)), options);
        });
    }

    /// <summary>Adds RPM personalization to the pipeline, over the given <see cref="RpmPipeline"/>.</summary>
    /// <param name="builder">The chat client builder.</param>
    /// <param name="pipeline">The pipeline whose store holds the user models.</param>
    /// <param name="configure">Sets the options, or <see langword="null"/> for the defaults.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="pipeline"/> is <see langword="null"/>.</exception>
    public static ChatClientBuilder UseRpm(this ChatClientBuilder builder, RpmPipeline pipeline, Action<RpmChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(pipeline);
        return builder.Use(inner =>
        {
            var options = new RpmChatClientOptions();
            configure?.Invoke(options);
            return new RpmChatClient(inner, pipeline, options);
        });
    }

    private static RpmPipeline ResolvePipeline(IServiceProvider services, object? key) =>
        (key is null
            ? services.GetService(typeof(RpmPipeline))
            : (services as Microsoft.Extensions.DependencyInjection.IKeyedServiceProvider)?.GetKeyedService(typeof(RpmPipeline), key)) as RpmPipeline
        ?? throw new InvalidOperationException(
            key is null
                ? "UseRpm() needs an RpmPipeline in the container: call services.AddRpm(...)."
                : $"UseRpm(pipelineKey: \"{key}\") needs an RpmPipeline registered with that key: call services.AddKeyedRpm(\"{key}\", ...).");
}
