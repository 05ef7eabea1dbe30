using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;
using Rpm;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the PostgreSQL stores and build queue with <see cref="RpmBuilder"/>.</summary>
public static class PostgresRpmBuilderExtensions
{
    /// <summary>
    /// Keeps user models and build checkpoints in a PostgreSQL database shared by every host: registers
    /// <see cref="PostgresUserModelStore"/> as <see cref="IUserModelStore"/>, <see cref="PostgresBuildCheckpointStore"/>
    /// as <see cref="IBuildCheckpointStore"/>, and <see cref="PostgresBuildQueue"/> for running several workers; with
    /// <c>AddBackgroundBuilds()</c> (Rpm.Hosting) the queue is also the job store of <see cref="RpmBuildQueue"/> and
    /// the hosted <see cref="RpmBuildService"/> runs its workers, so every host builds from one queue.
    /// The schema is created or migrated on first use. The container owns (and disposes) the connection pool.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddRpm</c>.</param>
    /// <param name="connectionString">An Npgsql connection string. Give this or <paramref name="connectionStringName"/>.</param>
    /// <param name="connectionStringName">
    /// The name of a connection string in the container's <see cref="IConfiguration"/> (<c>ConnectionStrings:NAME</c>),
    /// read when the stores are first resolved.
    /// </param>
    /// <param name="configureQueue">Sets the build queue's options.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">Neither or both of <paramref name="connectionString"/> and <paramref name="connectionStringName"/> are given, or the connection string is malformed.</exception>
    public static RpmBuilder UsePostgresStore(this RpmBuilder builder, string? connectionString = null, string? connectionStringName = null, Action<PostgresBuildQueueOptions>? configureQueue = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrWhiteSpace(connectionString) == string.IsNullOrWhiteSpace(connectionStringName))
        {
            throw new ArgumentException($"Give either a connection string ({nameof(connectionString)}) or the name of a configured one ({nameof(connectionStringName)}), not both or neither.");
        }

        if (connectionString is not null)
        {
            Check(connectionString, source: "The PostgreSQL connection string");
        }

        var queueOptions = new PostgresBuildQueueOptions();
        configureQueue?.Invoke(queueOptions);
        queueOptions.Validate();

        if (builder.ServiceKey is not { } key)
        {
            builder.Services.AddSingleton(sp => new PostgresRpmDataSource(connectionString ?? FromConfiguration(sp, connectionStringName!)));
            builder.Services.AddSingleton(sp => new PostgresUserModelStore(sp.GetRequiredService<PostgresRpmDataSource>().Database));
            builder.Services.AddSingleton(sp => new PostgresBuildCheckpointStore(sp.GetRequiredService<PostgresRpmDataSource>().Database));
            builder.Services.AddSingleton(sp => new PostgresBuildQueue(sp.GetRequiredService<PostgresRpmDataSource>().Database, queueOptions, sp.GetService<ILoggerFactory>()));
            builder.UseUserModelStore(sp => sp.GetRequiredService<PostgresUserModelStore>());
            builder.UseCheckpointStore(sp => sp.GetRequiredService<PostgresBuildCheckpointStore>());

            // Background builds (Rpm.Hosting's AddBackgroundBuilds) queue in this database and run its workers: one
            // build per user at a time across every host, resumed from the shared checkpoints.
            builder.Services.RemoveAll<IRpmBuildJobStore>();
            builder.Services.AddSingleton<IRpmBuildJobStore>(sp => new PostgresBuildJobStore(sp.GetRequiredService<PostgresBuildQueue>()));
            return builder;
        }

        // A keyed pipeline (AddKeyedRpm) gets its own data source, stores and queue, keyed alike. Its tables must not be
        // another pipeline's: give it its own database or schema ("Search Path=movies" in the connection string).
        builder.Services.AddKeyedSingleton(key, (sp, _) => new PostgresRpmDataSource(connectionString ?? FromConfiguration(sp, connectionStringName!)));
        builder.Services.AddKeyedSingleton(key, (sp, k) => new PostgresUserModelStore(sp.GetRequiredKeyedService<PostgresRpmDataSource>(k).Database));
        builder.Services.AddKeyedSingleton(key, (sp, k) => new PostgresBuildCheckpointStore(sp.GetRequiredKeyedService<PostgresRpmDataSource>(k).Database));
        builder.Services.AddKeyedSingleton(key, (sp, k) => new PostgresBuildQueue(sp.GetRequiredKeyedService<PostgresRpmDataSource>(k).Database, queueOptions, sp.GetService<ILoggerFactory>()));
        builder.UseUserModelStore(sp => sp.GetRequiredKeyedService<PostgresUserModelStore>(key));
        builder.UseCheckpointStore(sp => sp.GetRequiredKeyedService<PostgresBuildCheckpointStore>(key));
        return builder;
    }

    private static string FromConfiguration(IServiceProvider services, string name)
    {
        IConfiguration configuration = services.GetService<IConfiguration>()
            ?? throw new InvalidOperationException($"UsePostgresStore(connectionStringName: \"{name}\") needs an IConfiguration in the container (the host registers one); none is registered. Register one, or pass the connection string instead.");
        string? value = configuration.GetConnectionString(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException($"The connection string '{name}' for the RPM PostgreSQL store is missing: set ConnectionStrings:{name} in configuration (e.g. \"Host=db;Database=rpm;Username=rpm;Password=...\").");
        }

        return Check(value, source: $"The connection string '{name}'");
    }

    private static string Check(string connectionString, string source)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
            return connectionString;
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"{source} is not a valid Npgsql connection string: {ex.Message}", ex);
        }
    }
}
