using Npgsql;

namespace Rpm;

/// <summary>The data source that <c>UsePostgresStore</c> creates and the container disposes.</summary>
internal sealed class PostgresRpmDataSource : IAsyncDisposable, IDisposable
{
    public PostgresRpmDataSource(string connectionString)
    {
        DataSource = NpgsqlDataSource.Create(connectionString);
        Database = new PostgresDatabase(DataSource);
    }

    public NpgsqlDataSource DataSource { get; }

    public PostgresDatabase Database { get; }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    public void Dispose() => DataSource.Dispose();
}
