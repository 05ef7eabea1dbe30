using System.Net;
using System.Net.Sockets;

namespace Rpm.Storage.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of the PostgreSQL server for one simulated host: <see cref="Cut"/> drops every
/// connection through it (the server sees them close, the host sees its sockets fail) and refuses new ones until
/// <see cref="Restore"/>, as when a host vanishes from the network; <see cref="Freeze"/> holds every byte in both
/// directions until <see cref="Thaw"/>, closing nothing, as a partition that TCP outlives (nobody sees a close).
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly List<TcpClient> _live = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile bool _cut;
    private volatile TaskCompletionSource _thawed = Thawed();

    public TcpProxy(string host, int port)
    {
        _host = host;
        _port = port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Gets <paramref name="connectionString"/> pointed at this proxy.</summary>
    public static string Through(TcpProxy proxy, string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 3 }.ConnectionString;

    public void Cut()
    {
        _cut = true;
        lock (_live)
        {
            _live.ForEach(c => c.Dispose());
            _live.Clear();
        }
    }

    public void Restore() => _cut = false;

    public void Freeze() => _thawed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Thaw() => _thawed.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            if (_cut)
            {
                client.Dispose();
                continue;
            }

            _ = Task.Run(() => PipeAsync(client));
        }
    }

    private static TaskCompletionSource Thawed()
    {
        var thawed = new TaskCompletionSource();
        thawed.SetResult();
        return thawed;
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        byte[] buffer = new byte[16384];
        int read;
        while ((read = await from.ReadAsync(buffer)) > 0)
        {
            await _thawed.Task;
            await to.WriteAsync(buffer.AsMemory(0, read));
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(_host, _port);
            lock (_live)
            {
                _live.Add(client);
                _live.Add(upstream);
            }

            NetworkStream a = client.GetStream(), b = upstream.GetStream();
            await Task.WhenAny(PumpAsync(a, b), PumpAsync(b, a));
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            client.Dispose();
            upstream.Dispose();
        }
    }
}
