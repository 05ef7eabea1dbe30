using System.Diagnostics;
using Npgsql;

namespace Rpm.Storage.Tests.Infrastructure;

/// <summary>
/// A PgBouncer in front of the test run's PostgreSQL server, in transaction or session pooling mode: the ones .ci/run
/// starts (RPM_TEST_PGBOUNCER_TRANSACTION, RPM_TEST_PGBOUNCER_SESSION: "Host=...;Port=..."), or else one this process
/// starts from the Debian package's /usr/sbin/pgbouncer and stops when it exits.
/// </summary>
public static class PgBouncer
{
    public const string TransactionVariable = "RPM_TEST_PGBOUNCER_TRANSACTION";
    public const string SessionVariable = "RPM_TEST_PGBOUNCER_SESSION";
    private static readonly Dictionary<string, Lazy<Task<string>>> Instances = new()
    {
        ["transaction"] = new(() => StartAsync("transaction", TransactionVariable)),
        ["session"] = new(() => StartAsync("session", SessionVariable)),
    };

    /// <summary>Gets a connection string to <paramref name="databaseConnectionString"/>'s database through a PgBouncer in <paramref name="poolMode"/> mode.</summary>
    public static async Task<string> ConnectionStringAsync(string poolMode, string databaseConnectionString)
    {
        var bouncer = new NpgsqlConnectionStringBuilder(await Instances[poolMode].Value);
        var target = new NpgsqlConnectionStringBuilder(databaseConnectionString);
        return new NpgsqlConnectionStringBuilder
        {
            Host = bouncer.Host,
            Port = bouncer.Port,
            Username = target.Username,
            Database = target.Database,
            Pooling = true,
            Timeout = 10,
        }.ConnectionString;
    }

    private static async Task<string> StartAsync(string poolMode, string variable)
    {
        string? configured = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        const string exe = "/usr/sbin/pgbouncer";
        if (!File.Exists(exe))
        {
            throw new InvalidOperationException($"The pooler tests need PgBouncer: set {variable} (what .ci/run does), or install it (apt-get install pgbouncer).");
        }

        var server = new NpgsqlConnectionStringBuilder((await PostgresServer.GetAsync()).AdminConnectionString);
        string folder = Directory.CreateTempSubdirectory("rpm-test-pgbouncer-").FullName;
        int port = PostgresServer.FreePort();
        string config = Path.Combine(folder, "pgbouncer.ini");
        await File.WriteAllTextAsync(config, Config(server.Host!, server.Port, port, poolMode, folder));
        bool root = Environment.UserName == "root";
        var info = root
            ? new ProcessStartInfo(exe, ["-u", "postgres", config])
            : new ProcessStartInfo(exe, [config]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        if (root)
        {
            using Process chmod = Process.Start("chmod", ["-R", "a+rwx", folder])!;
            await chmod.WaitForExitAsync();
        }

        Process bouncer = Process.Start(info)!;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                bouncer.Kill();
            }
            catch (InvalidOperationException)
            {
            }
        };

        string connectionString = $"Host=127.0.0.1;Port={port}";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection($"{connectionString};Username={server.Username};Database=postgres;Pooling=false");
                await connection.OpenAsync(timeout.Token);
                return connectionString;
            }
            catch (NpgsqlException) when (!timeout.IsCancellationRequested && !bouncer.HasExited)
            {
                await Task.Delay(100, timeout.Token);
            }
        }
    }

    /// <summary>The configuration .ci/run writes too: every database of the server, logged in as its superuser.</summary>
    private static string Config(string host, int serverPort, int port, string poolMode, string folder) => $"""
        [databases]
        * = host={host} port={serverPort} user=postgres

        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = {port}
        unix_socket_dir =
        auth_type = any
        pool_mode = {poolMode}
        max_client_conn = 500
        default_pool_size = 20
        ignore_startup_parameters = extra_float_digits
        logfile = {folder}/pgbouncer.log
        pidfile = {folder}/pgbouncer.pid
        """;
}
