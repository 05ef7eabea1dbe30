using Npgsql;

namespace Rpm.Storage.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of one test's own (initdb in a temp folder, a free loopback port), for tests that restart or
/// stop the server, which they must not do to the run's shared one. Uses the Debian binaries, as .ci/run does.
/// </summary>
public sealed class PrivatePostgresCluster : IAsyncDisposable
{
    private readonly string _bin;
    private readonly bool _root;
    private readonly string _data;

    private PrivatePostgresCluster(string bin, bool root, string data, int port)
    {
        _bin = bin;
        _root = root;
        _data = data;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true;Timeout=5";

    public static PrivatePostgresCluster Start()
    {
        string bin = PostgresServer.FindBinaries();
        bool root = Environment.UserName == "root";
        string data = Directory.CreateTempSubdirectory("rpm-test-pg-private-").FullName;
        if (root)
        {
            RunRoot("chown", $"postgres \"{data}\"");
        }

        PostgresServer.RunPg(bin, root, "initdb", $"-D \"{data}\" -U postgres --auth=trust -E UTF8 --no-sync");
        var cluster = new PrivatePostgresCluster(bin, root, data, PostgresServer.FreePort());
        cluster.PgCtl("start");
        return cluster;
    }

    /// <summary>Restarts the server the way an operator does: fast shutdown (sessions end with 57P01), then start.</summary>
    public void Restart() => PgCtl("restart -m fast");

    public void Stop() => PgCtl("stop -m fast");

    public void StartAgain() => PgCtl("start");

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            PostgresServer.RunPg(_bin, _root, "pg_ctl", $"-D \"{_data}\" -m immediate -w stop");
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        await Task.Yield();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void PgCtl(string action) =>
        PostgresServer.RunPg(_bin, _root, "pg_ctl", $"-D \"{_data}\" -l \"{_data}/server.log\" -w -t 60 -o \"-p {Port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off\" {action}");

    private static void RunRoot(string file, string arguments)
    {
        using var process = System.Diagnostics.Process.Start(file, arguments);
        process.WaitForExit();
    }
}
