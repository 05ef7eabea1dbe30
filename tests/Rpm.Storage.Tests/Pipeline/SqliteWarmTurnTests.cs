using Rpm.Storage.Tests.Infrastructure;
using Rpm.Storage.Tests.Sqlite;
using Rpm.Tests;

namespace Rpm.Storage.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class SqliteWarmTurnTests : WarmTurnTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    public SqliteWarmTurnTests(MiniLmFixture miniLm)
        : base(miniLm)
    {
    }

    private string DatabasePath => _directory.File("rpm.db");

    public void Dispose() => _directory.Dispose();

    protected override IUserModelStore OpenStore() => new SqliteUserModelStore(DatabasePath);

    protected override IUserModelStore OpenUnreachableStore()
    {
        // A file that is not a database (a disk mix-up, a file half overwritten): SQLite refuses it.
        string path = _directory.File("not-a-database.db");
        File.WriteAllText(path, new string('x', 8192));
        return new SqliteUserModelStore(path);
    }

    protected override Task GarbleJsonAsync(string userId) =>
        SqliteSql.ExecuteAsync(DatabasePath, $"UPDATE rpm_user_models SET model_json = substr(model_json, 1, 40) WHERE user_id = '{userId}';");
}
