using Npgsql;

namespace Rpm;

/// <summary>One forward step of the PostgreSQL schema: run inside the migration transaction, then recorded in <c>rpm_schema_version</c>.</summary>
/// <param name="Version">The schema version the step produces (previous version + 1).</param>
/// <param name="Description">What the step changes, recorded with the version.</param>
/// <param name="Apply">Runs the step on the connection and transaction.</param>
internal sealed record PostgresMigration(int Version, string Description, Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task> Apply)
{
    /// <summary>Creates a step that runs SQL statements.</summary>
    public static PostgresMigration Sql(int version, string description, string sql) =>
        new(version, description, async (connection, transaction, cancellationToken) =>
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
}
