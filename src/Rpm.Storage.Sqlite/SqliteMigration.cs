using Microsoft.Data.Sqlite;

namespace Rpm;

/// <summary>One forward step of the SQLite schema: run inside the migration transaction, then recorded in <c>rpm_schema_version</c>.</summary>
/// <param name="Version">The schema version the step produces (previous version + 1).</param>
/// <param name="Description">What the step changes, recorded with the version.</param>
/// <param name="Apply">Runs the step on the connection and transaction.</param>
internal sealed record SqliteMigration(int Version, string Description, Func<SqliteConnection, SqliteTransaction, CancellationToken, Task> Apply)
{
    /// <summary>Creates a step that runs SQL statements.</summary>
    public static SqliteMigration Sql(int version, string description, string sql) =>
        new(version, description, async (connection, transaction, cancellationToken) =>
        {
            using SqliteCommand command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
}
