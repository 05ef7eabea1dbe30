using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Rpm.Storage.Tests.Infrastructure;

namespace Rpm.Storage.Tests.Sqlite;

/// <summary>The SQLite file itself: mode, schema versions, migrations, and files that cannot be used.</summary>
public sealed class SqliteSchemaTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_new_file_is_in_WAL_mode_with_the_current_schema_version_recorded()
    {
        string path = _directory.File("nested/folder/rpm.db");
        Assert.Equal(0, await SqliteRpmSchema.GetVersionAsync(path));

        await new SqliteUserModelStore(path).SaveAsync(Models.Simple("u", "r"), 0);

        Assert.Equal("wal", await SqliteSql.ScalarAsync(path, "PRAGMA journal_mode;"));
        Assert.Equal(SqliteRpmSchema.CurrentVersion, await SqliteRpmSchema.GetVersionAsync(path));
        Assert.Equal(1L, await SqliteSql.ScalarAsync(path, "SELECT count(*) FROM rpm_schema_version WHERE version = 1;"));
        Assert.Equal(SqliteRpmSchema.CurrentVersion, await SqliteRpmSchema.MigrateAsync(path));
    }

    [Fact]
    public async Task Embeddings_are_stored_as_a_binary_blob_not_as_JSON_numbers()
    {
        string path = _directory.File("rpm.db");
        await new SqliteUserModelStore(path).SaveAsync(Models.Simple("u", "r"), 0);

        Assert.Equal("blob", await SqliteSql.ScalarAsync(path, "SELECT typeof(embeddings) FROM rpm_user_models;"));
        byte[] blob = (byte[])(await SqliteSql.ScalarAsync(path, "SELECT embeddings FROM rpm_user_models;"))!;
        Assert.Equal(4 + (2 * 4), blob.Length);
        Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(blob));
        Assert.Equal(0.5f, BinaryPrimitives.ReadSingleLittleEndian(blob.AsSpan(4)));
        Assert.Equal(-0.25f, BinaryPrimitives.ReadSingleLittleEndian(blob.AsSpan(8)));
        string json = (string)(await SqliteSql.ScalarAsync(path, "SELECT model_json FROM rpm_user_models;"))!;
        Assert.Contains("\"embedding\":[]", json, StringComparison.Ordinal);
        Assert.DoesNotContain("-0.25", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schema_newer_than_the_code_is_refused_clearly_and_the_file_is_left_alone()
    {
        string path = _directory.File("rpm.db");
        await new SqliteUserModelStore(path).SaveAsync(Models.Simple("u", "r"), 0);
        await SqliteSql.ExecuteAsync(path, "INSERT INTO rpm_schema_version (version, description, applied_at) VALUES (7, 'from the future', '2030-01-01');");
        SqliteConnection.ClearAllPools();

        var store = new SqliteUserModelStore(path);
        var ex = await Assert.ThrowsAsync<RpmStoreSchemaException>(() => store.GetAsync("u"));
        Assert.Equal(7, ex.FoundVersion);
        Assert.Equal(SqliteRpmSchema.CurrentVersion, ex.SupportedVersion);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Upgrade Rpm.Storage.Sqlite", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RpmStoreSchemaException>(() => new SqliteBuildCheckpointStore(path).LoadAsync("u", "k"));
        Assert.Equal(1L, await SqliteSql.ScalarAsync(path, "SELECT count(*) FROM rpm_user_models;"));
    }

    [Fact]
    public async Task A_file_without_the_schema_is_migrated_from_version_0_and_keeps_its_other_tables()
    {
        string path = _directory.File("app.db");
        await SqliteSql.ExecuteAsync(path, "CREATE TABLE app_settings (key TEXT PRIMARY KEY, value TEXT); INSERT INTO app_settings VALUES ('theme', 'dark');");

        await new SqliteUserModelStore(path).SaveAsync(Models.Simple("u", "r"), 0);

        Assert.Equal(SqliteRpmSchema.CurrentVersion, await SqliteRpmSchema.GetVersionAsync(path));
        Assert.Equal("dark", await SqliteSql.ScalarAsync(path, "SELECT value FROM app_settings WHERE key = 'theme';"));
    }

    [Fact]
    public async Task A_next_migration_slots_in_keeps_the_data_and_a_failing_one_leaves_the_current_version()
    {
        string path = _directory.File("rpm.db");
        UserModel saved = await new SqliteUserModelStore(path).SaveAsync(Models.Rich("u"), 0);
        var options = new SqliteStoreOptions { Path = path };
        int current = SqliteRpmSchema.CurrentVersion;
        int next = current + 1;

        // A failing step: the transaction rolls back, the file stays at the current version and readable.
        SqliteMigration broken = SqliteMigration.Sql(next, "Broken.", "ALTER TABLE rpm_user_models ADD COLUMN note TEXT; ALTER TABLE no_such_table ADD COLUMN x TEXT;");
        var failed = await Assert.ThrowsAsync<RpmStoreException>(() => new SqliteDatabase(options).MigrateAsync([.. SqliteRpmSchema.Migrations, broken], default));
        Assert.Contains($"stays at version {current}", failed.Message, StringComparison.Ordinal);
        Assert.Equal(current, await SqliteRpmSchema.GetVersionAsync(path));
        Assert.Equal(0L, await SqliteSql.ScalarAsync(path, "SELECT count(*) FROM pragma_table_info('rpm_user_models') WHERE name = 'note';"));
        Models.AssertSame(saved, (await new SqliteUserModelStore(path).GetAsync("u"))!);

        // A working step: the next version, the model still reads, and today's code now refuses the file.
        SqliteMigration step = SqliteMigration.Sql(next, "A note per model.", "ALTER TABLE rpm_user_models ADD COLUMN note TEXT NOT NULL DEFAULT ''; UPDATE rpm_user_models SET note = 'migrated';");
        IReadOnlyList<SqliteMigration> withNext = [.. SqliteRpmSchema.Migrations, step];
        Assert.Equal(next, await new SqliteDatabase(options).MigrateAsync(withNext, default));
        Assert.Equal("migrated", await SqliteSql.ScalarAsync(path, "SELECT note FROM rpm_user_models WHERE user_id = 'u';"));
        Models.AssertSame(saved, (await new SqliteUserModelStore(new SqliteDatabase(options, withNext)).GetAsync("u"))!);
        SqliteConnection.ClearAllPools();
        await Assert.ThrowsAsync<RpmStoreSchemaException>(() => new SqliteUserModelStore(path).GetAsync("u"));
    }

    [Fact]
    public async Task A_version_1_file_moves_to_version_2_with_every_model_and_checkpoint_and_the_small_columns_first()
    {
        // Version 1 kept the checksum after the model's JSON and embeddings, so reading an entity tag walked the whole row.
        string path = _directory.File("v1-rows.db");
        var options = new SqliteStoreOptions { Path = path };
        IReadOnlyList<SqliteMigration> v1 = [SqliteRpmSchema.Migrations[0]];
        var v1Store = new SqliteUserModelStore(new SqliteDatabase(options, v1));
        UserModel rich = await v1Store.SaveAsync(Models.Rich("rich"), 0);
        UserModel simple = await v1Store.SaveAsync(Models.Simple("simple", "r"), 0);
        simple = await v1Store.SaveAsync(simple, simple.Version);
        await SqliteSql.ExecuteAsync(path, "INSERT INTO rpm_build_checkpoints VALUES ('rich', 'build', 'entry', '{\"kept\":true}', '2025-01-01T00:00:00Z');");
        string? tagBefore = await v1Store.GetETagAsync("simple");
        Assert.Equal(1, await SqliteRpmSchema.GetVersionAsync(path));
        SqliteConnection.ClearAllPools();

        Assert.Equal(SqliteRpmSchema.CurrentVersion, await SqliteRpmSchema.MigrateAsync(path));

        var store = new SqliteUserModelStore(path);
        Models.AssertSame(rich, (await store.GetAsync("rich"))!);
        Models.AssertSame(simple, (await store.GetAsync("simple"))!);
        Assert.Equal(2L, (await store.GetAsync("simple"))!.Version);
        Assert.Equal(tagBefore, await store.GetETagAsync("simple"));
        Assert.Equal("{\"kept\":true}", (await new SqliteBuildCheckpointStore(path).LoadAsync("rich", "build"))["entry"]);
        Assert.Equal(
            "user_id,version,checksum,format_version,task_name,path_count,updated_at,model_json,embeddings",
            await SqliteSql.ScalarAsync(path, "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('rpm_user_models') ORDER BY cid);"));
        Assert.Equal(2L, await SqliteSql.ScalarAsync(path, "SELECT count(*) FROM rpm_schema_version WHERE version IN (1, 2);"));
    }

    [Fact]
    public async Task A_file_written_by_hand_in_the_documented_v1_layout_is_read()
    {
        // Pins the on-disk format: if the code's layout drifts, files written by older versions would break.
        string path = _directory.File("v1.db");
        UserModel model = Models.Simple("hand", "written by hand").WithVersion(4);
        string json = Encoding.UTF8.GetString(RpmJson.SerializeUserModel(model.WithPaths([model.Paths[0].WithEmbedding(default)])));
        byte[] blob = new byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(blob, 2);
        BinaryPrimitives.WriteSingleLittleEndian(blob.AsSpan(4), 0.5f);
        BinaryPrimitives.WriteSingleLittleEndian(blob.AsSpan(8), -0.25f);
        byte[] checksum = SHA256.HashData([.. Encoding.UTF8.GetBytes(json), .. blob]);
        await SqliteSql.ExecuteAsync(path, """
            CREATE TABLE rpm_schema_version (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL);
            INSERT INTO rpm_schema_version VALUES (1, 'v1', '2025-01-01T00:00:00Z');
            CREATE TABLE rpm_user_models (user_id TEXT NOT NULL PRIMARY KEY, version INTEGER NOT NULL CHECK (version > 0), format_version INTEGER NOT NULL,
                task_name TEXT NOT NULL, path_count INTEGER NOT NULL, model_json TEXT NOT NULL, embeddings BLOB NOT NULL, checksum BLOB NOT NULL, updated_at TEXT NOT NULL);
            CREATE TABLE rpm_build_checkpoints (user_id TEXT NOT NULL, build_key TEXT NOT NULL, entry_key TEXT NOT NULL, value TEXT NOT NULL, saved_at TEXT NOT NULL,
                PRIMARY KEY (user_id, build_key, entry_key));
            """);
        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            using SqliteCommand insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO rpm_user_models VALUES ('hand', 4, 1, 'movielens-rating', 1, $json, $blob, $checksum, '2025-01-01T00:00:00Z');";
            insert.Parameters.AddWithValue("$json", json);
            insert.Parameters.Add("$blob", SqliteType.Blob).Value = blob;
            insert.Parameters.Add("$checksum", SqliteType.Blob).Value = checksum;
            await insert.ExecuteNonQueryAsync();
        }

        UserModel read = (await new SqliteUserModelStore(path).GetAsync("hand"))!;
        Models.AssertSame(model, read);
    }

    [Fact]
    public async Task A_file_that_is_not_a_database_is_reported_clearly()
    {
        string path = _directory.File("notes.txt");
        await File.WriteAllTextAsync(path, new string('x', 4096));

        var ex = await Assert.ThrowsAsync<RpmStoreException>(() => new SqliteUserModelStore(path).GetAsync("u"));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("not a SQLite database", ex.Message, StringComparison.Ordinal);
        Assert.Equal(new string('x', 4096), await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task A_path_that_is_a_folder_or_under_a_file_is_reported_clearly()
    {
        string folder = _directory.File("folder");
        Directory.CreateDirectory(folder);
        var ex = await Assert.ThrowsAsync<RpmStoreException>(() => new SqliteUserModelStore(folder).ListUserIdsAsync());
        Assert.Contains(folder, ex.Message, StringComparison.Ordinal);
        Assert.Contains("folder", ex.Message, StringComparison.Ordinal);

        string file = _directory.File("plain-file");
        await File.WriteAllTextAsync(file, "x");
        var under = await Assert.ThrowsAsync<RpmStoreException>(() => new SqliteBuildCheckpointStore(Path.Combine(file, "rpm.db")).LoadAsync("u", "k"));
        Assert.Contains("cannot be created", under.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_options_are_refused_at_construction()
    {
        Assert.Throws<ArgumentException>(() => new SqliteUserModelStore(":memory:"));
        Assert.Throws<ArgumentException>(() => new SqliteUserModelStore(" "));
        Assert.Throws<ArgumentException>(() => new SqliteUserModelStore(new SqliteStoreOptions { Path = "x.db", BusyTimeout = TimeSpan.FromSeconds(-1) }));
    }
}
