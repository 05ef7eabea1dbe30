using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Rpm.Storage.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server of the test run: the one named by RPM_TEST_POSTGRES (what .ci/run starts), or else a private
/// throw-away cluster this process starts (initdb in a temp folder, a free loopback port) and stops when it exits.
/// Each test class gets its own database (<see cref="CreateDatabaseAsync"/>).
/// </summary>
public sealed class PostgresServer
{
    public const string Variable = "RPM_TEST_POSTGRES";
    private const string ClusterPrefix = "rpm-test-pg-";
    private static readonly Lazy<Task<PostgresServer>> Instance = new(StartAsync);

    private PostgresServer(string adminConnectionString)
    {
        AdminConnectionString = adminConnectionString;
    }

    /// <summary>Gets a superuser connection string to a database that exists (not one to write test data to).</summary>
    public string AdminConnectionString { get; }

    public static Task<PostgresServer> GetAsync() => Instance.Value;

    public async Task<string> CreateDatabaseAsync()
    {
        string name = "rpm_test_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {name};", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    public async Task DropDatabaseAsync(string connectionString)
    {
        string name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE);", connection);
        await drop.ExecuteNonQueryAsync();
    }

    private static async Task<PostgresServer> StartAsync()
    {
        string? configured = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new PostgresServer(configured);
        }

        string bin = FindBinaries();
        RemoveStaleClusters(bin);
        string data = Directory.CreateTempSubdirectory(ClusterPrefix).FullName;
        await File.WriteAllTextAsync(Path.Combine(data, "..", Path.GetFileName(data) + ".owner"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        bool root = Environment.UserName == "root";
        if (root)
        {
            Run("chown", $"postgres \"{data}\"");
        }

        RunPg(bin, root, "initdb", $"-D \"{data}\" -U postgres --auth=trust -E UTF8 --no-sync");
        int port = FreePort();
        RunPg(bin, root, "pg_ctl", $"-D \"{data}\" -l \"{data}/server.log\" -w -t 60 -o \"-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(bin, root, data);
        return new PostgresServer($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true");
    }

    internal static string FindBinaries()
    {
        string? bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out int v) ? v : 0)
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            $"The PostgreSQL storage tests need a server: set {Variable} to an Npgsql connection string of a superuser (what .ci/run does), " +
            "or install PostgreSQL (apt-get install postgresql) so the tests can start a private one from /usr/lib/postgresql/<version>/bin.");
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops clusters left by test processes that died without stopping them.</summary>
    private static void RemoveStaleClusters(string bin)
    {
        bool root = Environment.UserName == "root";
        foreach (string owner in Directory.GetFiles(Path.GetTempPath(), ClusterPrefix + "*.owner"))
        {
            string data = owner[..^".owner".Length];
            if (int.TryParse(File.ReadAllText(owner), out int pid) && IsAlive(pid))
            {
                continue;
            }

            Stop(bin, root, data);
            File.Delete(owner);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void Stop(string bin, bool root, string data)
    {
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
        {
            try
            {
                RunPg(bin, root, "pg_ctl", $"-D \"{data}\" -m immediate -w stop");
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }

        try
        {
            Directory.Delete(data, recursive: true);
            File.Delete(data + ".owner");
        }
        catch (IOException)
        {
        }
    }

    internal static void RunPg(string bin, bool root, string tool, string arguments)
    {
        string exe = Path.Combine(bin, tool);
        if (root)
        {
            Run("runuser", $"-u postgres -- \"{exe}\" {arguments}");
        }
        else
        {
            Run(exe, arguments);
        }
    }

    private static void Run(string file, string arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {arguments}' failed with exit code {process.ExitCode}: {error.Result}{output.Result}");
        }
    }
}
