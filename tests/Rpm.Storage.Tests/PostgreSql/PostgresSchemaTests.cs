using System.Net;
using System.Net.Sockets;
using Npgsql;
using Rpm.Storage.Tests.Infrastructure;

namespace Rpm.Storage.Tests.PostgreSql;

/// <summary>The PostgreSQL database itself: schema versions, migrations, binary embeddings, and servers that cannot be used.</summary>
public sealed class PostgresSchemaTests : IClassFixture<PostgresDatabaseFixture>
{
    private readonly PostgresDatabaseFixture _database;

    public PostgresSchemaTests(PostgresDatabaseFixture database)
    {
        _database = database;
    }

    [Fact]
    public async Task A_new_database_gets_the_schema_once_even_when_hosts_start_together()
    {
        string connectionString = await _database.Server.CreateDatabaseAsync();
        try
        {
            await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
            Assert.Equal(0, await PostgresRpmSchema.GetVersionAsync(dataSource));

            // Four "hosts" migrate at once: the advisory lock makes one do it and the others see it done.
            int[] versions = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
            {
                await using NpgsqlDataSource own = NpgsqlDataSource.Create(connectionString);
                return await PostgresRpmSchema.MigrateAsync(own);
            }));

            Assert.All(versions, v => Assert.Equal(PostgresRpmSchema.CurrentVersion, v));
            Assert.Equal((long)PostgresRpmSchema.Migrations.Count, await PostgresSql.ScalarAsync(connectionString, "SELECT count(*) FROM rpm_schema_version;"));   // one row per migration: each ran once
        }
        finally
        {
            await _database.Server.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task Embeddings_are_stored_as_bytea_not_as_JSON_numbers()
    {
        await using NpgsqlDataSource dataSource = _database.CreateDataSource();
        await new PostgresUserModelStore(dataSource).SaveAsync(Models.Simple("bytea-user", "r"), null);

        Assert.Equal("bytea", await PostgresSql.ScalarAsync(_database.ConnectionString, "SELECT pg_typeof(embeddings)::text FROM rpm_user_models WHERE user_id = 'bytea-user';"));
        byte[] blob = (byte[])(await PostgresSql.ScalarAsync(_database.ConnectionString, "SELECT embeddings FROM rpm_user_models WHERE user_id = 'bytea-user';"))!;
        Assert.Equal(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0x3F, 0, 0, 0x80, 0xBE }, blob);
    }

    [Fact]
    public async Task A_schema_newer_than_the_code_is_refused_clearly()
    {
        string connectionString = await _database.Server.CreateDatabaseAsync();
        try
        {
            await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
            Assert.Equal(0, await new PostgresUserModelStore(dataSource).GetSchemaVersionAsync());  // read without migrating
            await new PostgresUserModelStore(dataSource).SaveAsync(Models.Simple("u", "r"), 0);
            Assert.Equal(PostgresRpmSchema.CurrentVersion, await new PostgresUserModelStore(dataSource).GetSchemaVersionAsync());
            await PostgresSql.ExecuteAsync(connectionString, "INSERT INTO rpm_schema_version (version, description) VALUES (9, 'from the future');");
            Assert.Equal(9, (await Assert.ThrowsAsync<RpmStoreSchemaException>(() => new PostgresUserModelStore(dataSource).GetSchemaVersionAsync())).FoundVersion);

            await using NpgsqlDataSource newHost = NpgsqlDataSource.Create(connectionString);
            var ex = await Assert.ThrowsAsync<RpmStoreSchemaException>(() => new PostgresUserModelStore(newHost).GetAsync("u"));
            Assert.Equal(9, ex.FoundVersion);
            Assert.Equal(PostgresRpmSchema.CurrentVersion, ex.SupportedVersion);
            Assert.Contains("Upgrade Rpm.Storage.PostgreSql", ex.Message, StringComparison.Ordinal);
            Assert.Contains(new NpgsqlConnectionStringBuilder(connectionString).Database!, ex.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<RpmStoreSchemaException>(() => new PostgresBuildQueue(newHost).GetJobAsync("u"));
        }
        finally
        {
            await _database.Server.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task A_version_3_migration_slots_in_keeps_the_data_and_a_failing_one_leaves_version_2()
    {
        string connectionString = await _database.Server.CreateDatabaseAsync();
        try
        {
            await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
            UserModel saved = await new PostgresUserModelStore(dataSource).SaveAsync(Models.Rich("u"), 0);

            PostgresMigration broken = PostgresMigration.Sql(3, "Broken.", "ALTER TABLE rpm_user_models ADD COLUMN note text; ALTER TABLE no_such_table ADD COLUMN x text;");
            var failed = await Assert.ThrowsAsync<RpmStoreException>(() => new PostgresDatabase(dataSource).MigrateAsync([.. PostgresRpmSchema.Migrations, broken], default));
            Assert.Contains("stays at version 2", failed.Message, StringComparison.Ordinal);
            Assert.Equal(2, await PostgresRpmSchema.GetVersionAsync(dataSource));
            Assert.Equal(0L, await PostgresSql.ScalarAsync(connectionString, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'rpm_user_models' AND column_name = 'note';"));

            PostgresMigration v2 = PostgresMigration.Sql(3, "A note per model.", "ALTER TABLE rpm_user_models ADD COLUMN note text NOT NULL DEFAULT ''; UPDATE rpm_user_models SET note = 'migrated';");
            IReadOnlyList<PostgresMigration> withV2 = [.. PostgresRpmSchema.Migrations, v2];
            Assert.Equal(3, await new PostgresDatabase(dataSource).MigrateAsync(withV2, default));
            Assert.Equal("migrated", await PostgresSql.ScalarAsync(connectionString, "SELECT note FROM rpm_user_models WHERE user_id = 'u';"));
            Models.AssertSame(saved, (await new PostgresUserModelStore(new PostgresDatabase(dataSource, withV2)).GetAsync("u"))!);
            await Assert.ThrowsAsync<RpmStoreSchemaException>(() => new PostgresUserModelStore(dataSource).GetAsync("u"));
        }
        finally
        {
            await _database.Server.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task Version_2_keeps_each_jobs_item_count_and_empties_the_history_of_finished_jobs()
    {
        string connectionString = await _database.Server.CreateDatabaseAsync();
        try
        {
            await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
            Assert.Equal(1, await new PostgresDatabase(dataSource).MigrateAsync([PostgresRpmSchema.Migrations[0]], default));
            await PostgresSql.ExecuteAsync(connectionString, """
                INSERT INTO rpm_build_jobs (user_id, generation, task_json, history_json, status) VALUES
                    ('done', 1, '{}', '[{"id":"a"},{"id":"b"}]', 'done'),
                    ('waiting', 1, '{}', '[{"id":"c"}]', 'pending');
                """);

            Assert.Equal(2, await PostgresRpmSchema.MigrateAsync(dataSource));

            Assert.Equal("[]", await PostgresSql.ScalarAsync(connectionString, "SELECT history_json FROM rpm_build_jobs WHERE user_id = 'done';"));
            Assert.Equal(2, await PostgresSql.ScalarAsync(connectionString, "SELECT history_count FROM rpm_build_jobs WHERE user_id = 'done';"));
            Assert.Equal("[{\"id\":\"c\"}]", await PostgresSql.ScalarAsync(connectionString, "SELECT history_json FROM rpm_build_jobs WHERE user_id = 'waiting';"));
            Assert.Equal(2, (await new PostgresBuildQueue(dataSource).GetJobAsync("done"))!.HistoryCount);
        }
        finally
        {
            await _database.Server.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task An_unreachable_server_is_reported_with_its_host_and_port_and_what_to_check()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create($"Host=127.0.0.1;Port={port};Username=postgres;Database=rpm;Timeout=5");
        var ex = await Assert.ThrowsAsync<RpmStoreException>(() => new PostgresUserModelStore(dataSource).GetAsync("u"));
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Check that the server is running", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionRefused", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<NpgsqlException>(ex.InnerException);
    }

    [Fact]
    public async Task A_missing_database_is_reported_with_what_to_do()
    {
        var settings = new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Database = "rpm_no_such_database" };
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(settings.ConnectionString);
        var ex = await Assert.ThrowsAsync<RpmStoreException>(() => new PostgresBuildCheckpointStore(dataSource).LoadAsync("u", "k"));
        Assert.Contains("has no database 'rpm_no_such_database'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("CREATE DATABASE", ex.Message, StringComparison.Ordinal);
    }
}
