using System.Net.Sockets;
using Npgsql;

namespace Rpm;

/// <summary>One PostgreSQL database used by the stores and the queue: opens connections, maps connection failures to clear errors, and migrates the schema once.</summary>
internal sealed class PostgresDatabase
{
    // The advisory lock (bigint form) that serializes migrations across hosts: "RPM_SCHM".
    private const long MigrationLockKey = 0x52504D5F5343484D;

    private readonly IReadOnlyList<PostgresMigration> _migrations;
    private readonly SemaphoreSlim _migrationGate = new(1, 1);
    private volatile bool _migrated;

    public PostgresDatabase(NpgsqlDataSource dataSource, IReadOnlyList<PostgresMigration>? migrations = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        DataSource = dataSource;
        _migrations = migrations ?? PostgresRpmSchema.Migrations;
        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        Host = string.IsNullOrWhiteSpace(settings.Host) ? "localhost" : settings.Host;
        Port = settings.Port;
        DatabaseName = string.IsNullOrWhiteSpace(settings.Database) ? settings.Username ?? "(default)" : settings.Database;
        UserName = settings.Username ?? Environment.UserName;
    }

    public NpgsqlDataSource DataSource { get; }

    public string Host { get; }

    public int Port { get; }

    public string DatabaseName { get; }

    public string UserName { get; }

    /// <summary>Gets the database as messages name it.</summary>
    public string Location => $"the PostgreSQL database '{DatabaseName}' at {Host}:{Port}";

    /// <summary>Opens a connection to a database whose schema is current (migrating it on first use).</summary>
    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_migrated)
        {
            await MigrateAsync(_migrations, cancellationToken).ConfigureAwait(false);
        }

        return await OpenRawAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a connection, turning "cannot connect" failures into <see cref="RpmStoreException"/> that name the server and what to check.</summary>
    public async Task<NpgsqlConnection> OpenRawAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            throw new RpmStoreException($"The PostgreSQL server at {Host}:{Port} has no database '{DatabaseName}': create it (CREATE DATABASE \"{DatabaseName}\") or fix Database in the connection string. ({ex.MessageText})", ex);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification)
        {
            throw new RpmStoreException($"The PostgreSQL server at {Host}:{Port} refused user '{UserName}' for database '{DatabaseName}': check Username and Password in the connection string and the server's pg_hba.conf. ({ex.MessageText})", ex);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.CannotConnectNow)
        {
            throw new RpmStoreException($"The PostgreSQL server at {Host}:{Port} does not accept connections now ({ex.MessageText}): it is starting, shutting down, or at max_connections. Retry later, or lower Max Pool Size across the hosts.", ex);
        }
        catch (NpgsqlException ex) when (ex is not PostgresException && !cancellationToken.IsCancellationRequested)
        {
            string reason = ex.InnerException is SocketException socket ? $"{socket.SocketErrorCode}: {socket.Message}"
                : ex.InnerException is TimeoutException ? "the connection timed out"
                : ex.Message;
            throw new RpmStoreException($"Cannot connect to the PostgreSQL server at {Host}:{Port} (database '{DatabaseName}', user '{UserName}'): {reason}. Check that the server is running, that it listens on that host and port (listen_addresses and port in postgresql.conf), that no firewall blocks the port, and that Host and Port in the connection string are right.", ex);
        }
    }

    /// <summary>Brings the schema to the last version of <paramref name="migrations"/>, in one transaction under an advisory lock.</summary>
    public async Task<int> MigrateAsync(IReadOnlyList<PostgresMigration> migrations, CancellationToken cancellationToken)
    {
        int supported = migrations.Count == 0 ? 0 : migrations[^1].Version;
        await _migrationGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using NpgsqlConnection connection = await OpenRawAsync(cancellationToken).ConfigureAwait(false);
            int version = await ReadVersionAsync(connection, null, cancellationToken).ConfigureAwait(false);
            CheckNotNewer(version, supported);
            if (version < supported)
            {
                // The lock is taken before the transaction starts: a transaction start makes the session see catalog
                // changes committed meanwhile, which a lookup inside an older transaction may not (a cached "no such table").
                await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key);", connection))
                {
                    lockCommand.Parameters.AddWithValue("key", MigrationLockKey);
                    await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                try
                {
                    version = await MigrateLockedAsync(connection, migrations, supported, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key);", connection);
                    unlock.Parameters.AddWithValue("key", MigrationLockKey);
                    await unlock.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }

            if (ReferenceEquals(migrations, _migrations))
            {
                _migrated = true;
            }

            return version;
        }
        finally
        {
            _migrationGate.Release();
        }
    }

    private async Task<int> MigrateLockedAsync(NpgsqlConnection connection, IReadOnlyList<PostgresMigration> migrations, int supported, CancellationToken cancellationToken)
    {
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // Another host may have migrated while this one waited for the lock.
        int version = await ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        CheckNotNewer(version, supported);
        if (version == supported)
        {
            return version;
        }

        await using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS rpm_schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());", connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (PostgresMigration migration in migrations.Where(m => m.Version > version).OrderBy(m => m.Version))
        {
            try
            {
                await migration.Apply(connection, transaction, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex)
            {
                throw new RpmStoreException($"Migrating {Location} to schema version {migration.Version} ({migration.Description}) failed; the database stays at version {version}. {ex.MessageText}", ex);
            }

            await using var record = new NpgsqlCommand("INSERT INTO rpm_schema_version (version, description) VALUES (@version, @description);", connection, transaction);
            record.Parameters.AddWithValue("version", migration.Version);
            record.Parameters.AddWithValue("description", migration.Description);
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return supported;
    }

    /// <summary>Reads the schema version: 0 when the database has no <c>rpm_schema_version</c> table in the search path.</summary>
    public static async Task<int> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass('rpm_schema_version') IS NOT NULL;", connection, transaction);
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
        {
            return 0;
        }

        command.CommandText = "SELECT coalesce(max(version), 0) FROM rpm_schema_version;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private void CheckNotNewer(int version, int supported)
    {
        if (version > supported)
        {
            throw new RpmStoreSchemaException(Location, version, supported, PostgresRpmSchema.PackageName);
        }
    }
}
