using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rpm;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds background builds to an RPM registration.</summary>
public static class RpmHostingRpmBuilderExtensions
{
    /// <summary>
    /// Registers <see cref="RpmBuildQueue"/> and the hosted <see cref="RpmBuildService"/> that builds its jobs, with
    /// jobs kept in memory unless a store package registered its own <see cref="IRpmBuildJobStore"/>
    /// (<c>UseSqliteStore</c> keeps them in the SQLite file, so they survive a restart).
    /// </summary>
    /// <param name="builder">The builder of an unkeyed <c>AddRpm</c> registration.</param>
    /// <param name="configure">Sets the service's options, or <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="NotSupportedException">The builder is of a keyed pipeline (<c>AddKeyedRpm</c>).</exception>
    public static RpmBuilder AddBackgroundBuilds(this RpmBuilder builder, Action<RpmBuildServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.ServiceKey is not null)
        {
            throw new NotSupportedException("Background builds serve the unkeyed pipeline (AddRpm); a keyed pipeline (AddKeyedRpm) is not supported yet.");
        }

        OptionsBuilder<RpmBuildServiceOptions> options = builder.Services.AddOptions<RpmBuildServiceOptions>().Validate(o =>
        {
            o.Validate();
            return true;
        });
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddSingleton<IRpmBuildJobStore>(_ => new InMemoryBuildJobStore());
        builder.Services.TryAddSingleton(sp => new RpmBuildQueue(sp.GetRequiredService<IRpmBuildJobStore>()));
        builder.Services.AddHostedService<RpmBuildService>();
        return builder;
    }
}
