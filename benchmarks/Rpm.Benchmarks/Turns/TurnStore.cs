namespace Rpm.Benchmarks.Turns;

/// <summary>Where the user models of a turn benchmark live.</summary>
public enum TurnStore
{
    /// <summary><see cref="InMemoryUserModelStore"/>: the saved instance itself is returned, nothing is read or decoded.</summary>
    InMemory,

    /// <summary><c>UseSqliteStore(path)</c> over a file in a fresh temporary folder.</summary>
    Sqlite,

    /// <summary><c>UsePostgresStore(connectionString)</c>, the server named by <see cref="TurnStores.PostgresVariable"/>.</summary>
    PostgreSql,
}
