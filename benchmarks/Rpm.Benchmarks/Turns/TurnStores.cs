using Microsoft.Extensions.DependencyInjection;

namespace Rpm.Benchmarks.Turns;

/// <summary>Registers a <see cref="TurnStore"/> on an RPM builder and says which stores this run can use.</summary>
public static class TurnStores
{
    /// <summary>The environment variable that holds the PostgreSQL connection string; unset skips PostgreSQL.</summary>
    public const string PostgresVariable = "RPM_BENCH_POSTGRES";

    public static string? PostgresConnectionString =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value ? value : null;

    /// <summary>The stores of this run: PostgreSQL only when <see cref="PostgresVariable"/> is set (else a line says it is skipped).</summary>
    public static IEnumerable<TurnStore> Available(TextWriter? log = null)
    {
        yield return TurnStore.InMemory;
        yield return TurnStore.Sqlite;
        if (PostgresConnectionString is not null)
        {
            yield return TurnStore.PostgreSql;
        }
        else
        {
            log?.WriteLine($"// {PostgresVariable} is not set: the PostgreSql cases are skipped (set it to a connection string, e.g. Host=127.0.0.1;Port=54331;Username=postgres;Database=postgres).");
        }
    }

    /// <summary>Registers the store; returns a folder to delete afterwards (SQLite), or <see langword="null"/>.</summary>
    public static string? Use(RpmBuilder rpm, TurnStore store)
    {
        switch (store)
        {
            case TurnStore.InMemory:
                return null;
            case TurnStore.Sqlite:
                string folder = Directory.CreateTempSubdirectory("rpm-turnbench-").FullName;
                rpm.UseSqliteStore(Path.Combine(folder, "rpm.db"));
                return folder;
            case TurnStore.PostgreSql:
                rpm.UsePostgresStore(PostgresConnectionString ?? throw new InvalidOperationException($"Set {PostgresVariable} to a PostgreSQL connection string to run the PostgreSql cases."));
                return null;
            default:
                throw new ArgumentOutOfRangeException(nameof(store), store, null);
        }
    }

    /// <summary>Deletes what <see cref="Use"/> created.</summary>
    public static void Clean(string? folder)
    {
        if (folder is not null && Directory.Exists(folder))
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }
}
