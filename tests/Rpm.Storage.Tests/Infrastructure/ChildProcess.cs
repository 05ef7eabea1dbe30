using System.Diagnostics;
using System.Threading.Channels;

namespace Rpm.Storage.Tests.Infrastructure;

/// <summary>A running Rpm.Storage.TestWorker process whose output lines the test reads.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly System.Text.StringBuilder _errors = new();

    private ChildProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_errors)
                {
                    _errors.AppendLine(e.Data);
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static ChildProcess Start(params string[] arguments)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(WorkerPath);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return new ChildProcess(Process.Start(info) ?? throw new InvalidOperationException("The worker process did not start."));
    }

    /// <summary>Gets the worker next to this test assembly's output (same configuration and framework).</summary>
    public static string WorkerPath
    {
        get
        {
            // .../tests/Rpm.Storage.Tests/bin/<configuration>/<framework>/ -> .../tests/Rpm.Storage.TestWorker/bin/<configuration>/<framework>/
            string output = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
            string framework = Path.GetFileName(output);
            string configuration = Path.GetFileName(Path.GetDirectoryName(output))!;
            string tests = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(output))))!;
            string path = Path.Combine(tests, "Rpm.Storage.TestWorker", "bin", configuration, framework, "Rpm.Storage.TestWorker.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The test worker is not built at {path}; build tests/Rpm.Storage.TestWorker.", path);
        }
    }

    /// <summary>Waits for the next output line that starts with <paramref name="prefix"/>; fails when the process ends first.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await foreach (string line in _lines.Reader.ReadAllAsync(cts.Token))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The worker printed no '{prefix}' line in time. stderr: {Errors}");
        }

        await _process.WaitForExitAsync();
        throw new InvalidOperationException($"The worker exited ({_process.ExitCode}) without printing '{prefix}'. stderr: {Errors}");
    }

    public void SendLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async Task<int> WaitForExitAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
