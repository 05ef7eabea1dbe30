namespace Rpm;

/// <summary>Options of the SQLite stores.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>Gets or sets the path of the database file; created with its folder when missing.</summary>
    public string Path { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets how long a statement waits for another connection or process that holds the write lock before
    /// failing. Default 30 seconds.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            throw new ArgumentException($"{nameof(SqliteStoreOptions)}.{nameof(Path)} must name the database file.");
        }

        if (Path.Trim() is ":memory:" || Path.StartsWith("file::memory:", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"{nameof(SqliteStoreOptions)}.{nameof(Path)} is an in-memory SQLite database, which does not outlive a connection; use {nameof(InMemoryUserModelStore)} for models that need not persist, or name a file.");
        }

        if (BusyTimeout < TimeSpan.Zero || BusyTimeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"{nameof(SqliteStoreOptions)}.{nameof(BusyTimeout)} must be between 0 and 1 hour (was {BusyTimeout}).");
        }
    }
}
