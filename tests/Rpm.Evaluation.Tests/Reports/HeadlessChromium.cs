using System.Diagnostics;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rpm.Evaluation.Tests.Reports;

/// <summary>
/// A real headless Chromium (the Debian package .ci/run installs, or the browser named by RPM_TEST_CHROMIUM), driven over
/// the Chrome DevTools Protocol: it opens a page, collects every script exception and console or log error, and
/// evaluates an expression on the rendered page.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Variable = "RPM_TEST_CHROMIUM";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket;
    private readonly List<JsonObject> _events = [];
    private int _nextId;

    private HeadlessChromium(Process process, string profile, ClientWebSocket socket)
    {
        _process = process;
        _profile = profile;
        _socket = socket;
    }

    /// <summary>Gets the errors the page reported: uncaught exceptions, console.error calls, and log entries of level error (e.g. a resource that failed to load).</summary>
    public IReadOnlyList<string> Errors => [.. _events.Select(Describe).OfType<string>()];

    public static async Task<HeadlessChromium> StartAsync(int width, int height)
    {
        string executable = Find();
        string profile = Path.Combine(Path.GetTempPath(), "rpm-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
        {
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-extensions", "--remote-debugging-port=0", "--remote-allow-origins=*",
            $"--user-data-dir={profile}", $"--window-size={width},{height}", "about:blank",
        })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        using var cts = new CancellationTokenSource(Timeout);
        string? endpoint = null;
        var log = new StringBuilder();
        while (endpoint is null)
        {
            string? line = await process.StandardError.ReadLineAsync(cts.Token);
            if (line is null)
            {
                throw new InvalidOperationException($"{executable} exited before it listened for DevTools:\n{log}");
            }

            log.AppendLine(line);
            const string Marker = "DevTools listening on ";
            int at = line.IndexOf(Marker, StringComparison.Ordinal);
            endpoint = at < 0 ? null : line[(at + Marker.Length)..].Trim();
        }

        _ = DrainAsync(process.StandardError);
        _ = DrainAsync(process.StandardOutput);
        var browser = new Uri(endpoint);
        using var http = new HttpClient();
        JsonArray targets = JsonNode.Parse(await http.GetStringAsync(new Uri($"http://{browser.Authority}/json/list"), cts.Token))!.AsArray();
        string page = targets.Select(t => t!.AsObject()).First(t => (string?)t["type"] == "page")["webSocketDebuggerUrl"]!.GetValue<string>();
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(page), cts.Token);
        var chromium = new HeadlessChromium(process, profile, socket);
        await chromium.SendAsync("Runtime.enable", null, cts.Token);
        await chromium.SendAsync("Log.enable", null, cts.Token);
        await chromium.SendAsync("Page.enable", null, cts.Token);
        await chromium.SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false }, cts.Token);
        return chromium;
    }

    /// <summary>Opens a file and waits for its load event.</summary>
    public async Task OpenAsync(string file)
    {
        using var cts = new CancellationTokenSource(Timeout);
        int seen = _events.Count;
        await SendAsync("Page.navigate", new JsonObject { ["url"] = new Uri(Path.GetFullPath(file)).AbsoluteUri }, cts.Token);
        while (!_events.Skip(seen).Any(e => (string?)e["method"] == "Page.loadEventFired"))
        {
            _events.Add(await ReceiveAsync(cts.Token));
        }
    }

    /// <summary>Evaluates a JavaScript expression on the page and returns its value (JSON).</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        using var cts = new CancellationTokenSource(Timeout);
        JsonObject result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true }, cts.Token);
        if (result["exceptionDetails"] is JsonNode exception)
        {
            throw new InvalidOperationException("The expression threw: " + exception.ToJsonString());
        }

        return result["result"]?["value"]?.DeepClone();
    }

    /// <summary>Writes a PNG screenshot of the whole page.</summary>
    public async Task ScreenshotAsync(string path)
    {
        using var cts = new CancellationTokenSource(Timeout);
        JsonObject shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true }, cts.Token);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(shot["data"]!.GetValue<string>()), cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await SendAsync("Browser.close", null, cts.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or InvalidOperationException)
        {
            // The browser is killed below either way.
        }

        _socket.Dispose();
        if (!_process.WaitForExit(5000))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // A crash-pad file may still be held; the temp folder is cleaned by the OS.
        }
    }

    private static string Find()
    {
        string? configured = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured) ? configured : throw new InvalidOperationException($"{Variable} names '{configured}', which does not exist.");
        }

        string[] names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string name in names)
            {
                string candidate = Path.Combine(folder, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException(
            $"No Chromium found (looked for {string.Join(", ", names)} on PATH). The report is checked in a real browser: install the Debian package 'chromium' (.ci/run does), or set {Variable} to a Chromium or Chrome executable.");
    }

    private static async Task DrainAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync() is not null)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The browser exited.
        }
    }

    private static string? Describe(JsonObject e) => (string?)e["method"] switch
    {
        "Runtime.exceptionThrown" => "uncaught exception: " + (e["params"]?["exceptionDetails"]?["exception"]?["description"] ?? e["params"]?["exceptionDetails"]?["text"])?.ToString(),
        "Runtime.consoleAPICalled" when (string?)e["params"]?["type"] == "error" => "console.error: " + e["params"]?["args"]?.ToJsonString(),
        "Log.entryAdded" when (string?)e["params"]?["entry"]?["level"] == "error" => "log error: " + (string?)e["params"]?["entry"]?["text"] + " " + (string?)e["params"]?["entry"]?["url"],
        _ => null,
    };

    private async Task<JsonObject> SendAsync(string method, JsonObject? parameters, CancellationToken cancellationToken)
    {
        int id = ++_nextId;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        while (true)
        {
            JsonObject received = await ReceiveAsync(cancellationToken);
            if (received["id"] is JsonNode idNode && idNode.GetValue<int>() == id)
            {
                return received["error"] is JsonNode error
                    ? throw new InvalidOperationException($"{method} failed: {error.ToJsonString()}")
                    : received["result"]?.AsObject() ?? new JsonObject();
            }

            _events.Add(received);
        }
    }

    private async Task<JsonObject> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException("The browser closed the DevTools connection.");
            }

            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return JsonNode.Parse(message.ToArray())!.AsObject();
    }
}
