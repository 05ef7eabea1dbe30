using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rpm;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SQLite stores with <see cref="RpmBuilder"/>.</summary>
public static class SqliteRpmBuilderExtensions
{
    /// <summary>
    /// Keeps user models and build checkpoints in one SQLite file: registers <see cref="SqliteUserModelStore"/> as
    /// <see cref="IUserModelStore"/> and <see cref="SqliteBuildCheckpointStore"/> as <see cref="IBuildCheckpointStore"/>.
    /// The schema is created or migrated on first use. On a keyed pipeline (<c>AddKeyedRpm</c>) the stores are keyed
    /// alike; give each keyed pipeline its own file, since a store keeps one model per user id.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddRpm</c>.</param>
    /// <param name="path">The database file. Give this or <paramref name="connectionStringName"/>.</param>
    /// <param name="connectionStringName">
    /// The name of a connection string in the container's <see cref="IConfiguration"/> (<c>ConnectionStrings:NAME</c>),
    /// either a file path or a SQLite connection string such as <c>Data Source=rpm.db</c>; read when the store is first resolved.
    /// </param>
    /// <param name="configure">Sets further options (busy timeout).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">Neither or both of <paramref name="path"/> and <paramref name="connectionStringName"/> are given.</exception>
    public static RpmBuilder UseSqliteStore(this RpmBuilder builder, string? path = null, string? connectionStringName = null, Action<SqliteStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrWhiteSpace(path) == string.IsNullOrWhiteSpace(connectionStringName))
        {
            throw new ArgumentException($"Give either the database file ({nameof(path)}) or the name of a configured connection string ({nameof(connectionStringName)}), not both or neither.");
        }

        if (path is not null)
        {
            // Fail at registration, not at first use, when the options are wrong.
            Options(path, configure).Validate();
        }

        if (builder.ServiceKey is not { } key)
        {
            builder.Services.AddSingleton(sp => new SqliteUserModelStore(Options(path ?? FromConfiguration(sp, connectionStringName!), configure)));
            builder.Services.AddSingleton(sp => new SqliteBuildCheckpointStore(Options(path ?? FromConfiguration(sp, connectionStringName!), configure)));
            builder.UseUserModelStore(sp => sp.GetRequiredService<SqliteUserModelStore>());
            builder.UseCheckpointStore(sp => sp.GetRequiredService<SqliteBuildCheckpointStore>());

            // Background builds (Rpm.Hosting's AddBackgroundBuilds) keep their jobs in the same file, so they survive a restart.
            builder.Services.RemoveAll<IRpmBuildJobStore>();
            builder.Services.AddSingleton<IRpmBuildJobStore>(sp => new SqliteBuildJobStore(Options(path ?? FromConfiguration(sp, connectionStringName!), configure), sp.GetService<TimeProvider>()));
            return builder;
        }

        // A keyed pipeline (AddKeyedRpm) gets its own stores, keyed alike; give each pipeline its own file.
        builder.Services.AddKeyedSingleton(key, (sp, _) => new SqliteUserModelStore(Options(path ?? FromConfiguration(sp, connectionStringName!), configure)));
        builder.Services.AddKeyedSingleton(key, (sp, _) => new SqliteBuildCheckpointStore(Options(path ?? FromConfiguration(sp, connectionStringName!), configure)));
        builder.UseUserModelStore(sp => sp.GetRequiredKeyedService<SqliteUserModelStore>(key));
        builder.UseCheckpointStore(sp => sp.GetRequiredKeyedService<SqliteBuildCheckpointStore>(key));
        return builder;
    }

    private static SqliteStoreOptions Options(string path, Action<SqliteStoreOptions>? configure)
    {
        var options = new SqliteStoreOptions { Path = path };
        configure?.Invoke(options);
        return options;
    }

    private static string FromConfiguration(IServiceProvider services, string name)
    {
        IConfiguration configuration = services.GetService<IConfiguration>()
            ?? throw new InvalidOperationException($"UseSqliteStore(connectionStringName: \"{name}\") needs an IConfiguration in the container (the host registers one); none is registered. Register one, or pass the file path instead.");
        string? value = configuration.GetConnectionString(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException($"The connection string '{name}' for the RPM SQLite store is missing: set ConnectionStrings:{name} in configuration (e.g. \"Data Source=rpm.db\" or a file path).");
        }

        if (!value.Contains('=', StringComparison.Ordinal))
        {
            return value.Trim();
        }

        string dataSource = new SqliteConnectionStringBuilder(value).DataSource;
        return string.IsNullOrWhiteSpace(dataSource)
            ? throw new InvalidOperationException($"The connection string '{name}' for the RPM SQLite store names no file: set Data Source.")
            : dataSource;
    }
}
