using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Rpm.Tests.Fakes;

namespace Rpm.OpenAI.Batch.Tests;

/// <summary>What the server does with a batch when it is processed.</summary>
public enum BatchOutcome
{
    /// <summary>Every line answered (lines named by <see cref="FakeBatchServer.LineFailure"/> aside).</summary>
    Completed,

    /// <summary>Expired: the first half of the lines answered, the rest not.</summary>
    Expired,

    /// <summary>Failed validation: no output at all.</summary>
    Failed,

    /// <summary>
    /// Failed at once because the organization's enqueued-token limit was reached, as OpenAI reports it
    /// (openai/openai-python#2084): status <c>failed</c>, error <c>token_limit_exceeded</c>, no output.
    /// </summary>
    TokenLimited,
}

/// <summary>
/// OpenAI's Files and Batches APIs on loopback (<c>POST /v1/files</c>, <c>GET /v1/files/{id}/content</c>,
/// <c>POST /v1/batches</c>, <c>GET /v1/batches</c>, <c>GET /v1/batches/{id}</c>, <c>POST /v1/batches/{id}/cancel</c>) as documented; each line of a batch is
/// answered by the <see cref="FakeChatClient"/> as the chat-completions endpoint would answer it.
/// </summary>
public sealed class FakeBatchServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly ConcurrentDictionary<string, string> _files = new();
    private readonly ConcurrentDictionary<string, JsonObject> _batches = new();
    private readonly ConcurrentQueue<(string BatchId, List<JsonObject> Lines)> _submitted = new();
    private readonly ConcurrentQueue<string> _answered = new();
    private readonly ConcurrentDictionary<string, List<JsonObject>> _open = new();
    private readonly ConcurrentQueue<string> _log = new();
    private readonly ConcurrentQueue<DateTimeOffset> _createdAt = new();
    private readonly object _gate = new();
    private int _fileCount;
    private int _batchCount;
    private int _answeredCount;

    public FakeBatchServer(FakeChatClient model)
    {
        Model = model;
        int port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/v1");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public FakeChatClient Model { get; }

    public Uri Endpoint { get; }

    /// <summary>While set, batches stay <c>in_progress</c> (a cancelled one still ends).</summary>
    public volatile bool Hold;

    /// <summary>The clock that stamps a batch's <c>created_at</c> and each creation in <see cref="CreatedAt"/> (the tests' fake clock).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Given "METHOD path", whether to answer that call 429 with <c>Retry-After: RetryAfterSeconds</c> instead.</summary>
    public Func<string, bool>? RateLimited { get; set; }

    /// <summary>How long batch N stays <c>in_progress</c> on <see cref="Clock"/> after its creation (null: it ends at its first poll).</summary>
    public Func<int, TimeSpan?>? Duration { get; set; }

    /// <summary>The <c>Retry-After</c> seconds of a 429.</summary>
    public int RetryAfterSeconds { get; set; } = 20;

    /// <summary>The outcome of the n-th batch created (1-based); completed when null.</summary>
    public Func<int, BatchOutcome>? Outcome { get; set; }

    /// <summary>A line's failure in a batch that completes: <c>"error"</c> (a line of the error file) or <c>"500"</c> (status 500 in the output file), or null to answer it.</summary>
    public Func<int, FakeRequest, string?>? LineFailure { get; set; }

    /// <summary>When set, the next batch creation succeeds but its answer is lost (the client sees a 502).</summary>
    public volatile bool LoseNextCreateAnswer;

    /// <summary>Rewrites batch N's output file before it is served (a line cut short, a line that is not JSON), as reported of the real service.</summary>
    public Func<int, string, string>? MangleOutput { get; set; }

    /// <summary>While above zero, batch creations are refused with a 400 (and counted down).</summary>
    public int RejectCreations;

    /// <summary>
    /// Whether the server keeps what tests inspect (<see cref="Submitted"/>, <see cref="Answered"/>) and every file; off for
    /// the memory benchmark, where a file is forgotten once read and only <see cref="AnsweredCount"/> is counted.
    /// </summary>
    public bool KeepHistory { get; set; } = true;

    /// <summary>How many lines were answered with status 200, kept or not.</summary>
    public int AnsweredCount => _answeredCount;

    /// <summary>Every batch created, with the lines of its input file, in creation order.</summary>
    public IReadOnlyList<(string BatchId, List<JsonObject> Lines)> Submitted => [.. _submitted];

    /// <summary>The custom ids answered with status 200 (a paid answer each).</summary>
    public IReadOnlyList<string> Answered => [.. _answered];

    /// <summary>The clock's time of each batch creation, in creation order.</summary>
    public IReadOnlyList<DateTimeOffset> CreatedAt => [.. _createdAt];

    /// <summary>Every request the server received ("METHOD path").</summary>
    public IReadOnlyList<string> Log => [.. _log];

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Reads the request a line carries as the fake model sees it.</summary>
    public static (List<ChatMessage> Messages, ChatOptions Options) Parse(JsonObject body) => FakeOpenAiServer.ReadRequest(body);

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            string path = context.Request.Url!.AbsolutePath.TrimEnd('/');
            string method = context.Request.HttpMethod;
            _log.Enqueue($"{method} {path}");
            if (context.Request.Headers["Authorization"] != "Bearer test-key")
            {
                await WriteAsync(context, Error("missing or wrong API key"), 401);
            }
            else if (RateLimited?.Invoke($"{method} {path}") == true)
            {
                context.Response.Headers["Retry-After"] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await WriteAsync(context, Error("Rate limit reached for requests."), 429);
            }
            else if (method == "POST" && path == "/v1/files")
            {
                await UploadAsync(context);
            }
            else if (method == "GET" && path.StartsWith("/v1/files/", StringComparison.Ordinal) && path.EndsWith("/content", StringComparison.Ordinal))
            {
                string id = path["/v1/files/".Length..^"/content".Length];
                if (KeepHistory ? _files.TryGetValue(id, out string? content) : _files.TryRemove(id, out content))
                {
                    await WriteTextAsync(context, content, "application/jsonl");
                }
                else
                {
                    await WriteAsync(context, Error($"No such File object: {id}"), 404);
                }
            }
            else if (method == "POST" && path == "/v1/batches")
            {
                await CreateAsync(context);
            }
            else if (method == "GET" && path == "/v1/batches")
            {
                await WriteAsync(context, new JsonObject { ["object"] = "list", ["data"] = new JsonArray([.. _batches.Values.Select(b => (JsonNode)b.DeepClone())]), ["has_more"] = false });
            }
            else if (method == "POST" && path.StartsWith("/v1/batches/", StringComparison.Ordinal) && path.EndsWith("/cancel", StringComparison.Ordinal))
            {
                string id = path["/v1/batches/".Length..^"/cancel".Length];
                if (!_batches.TryGetValue(id, out JsonObject? batch))
                {
                    await WriteAsync(context, Error($"No batch found with id '{id}'."), 404);
                    return;
                }

                JsonObject copy;
                lock (_gate)
                {
                    if (batch["status"]!.GetValue<string>() == "in_progress")
                    {
                        batch["status"] = "cancelling";
                    }

                    copy = (JsonObject)batch.DeepClone();
                }

                await WriteAsync(context, copy);
            }
            else if (method == "GET" && path.StartsWith("/v1/batches/", StringComparison.Ordinal))
            {
                string id = path["/v1/batches/".Length..];
                if (!_batches.TryGetValue(id, out JsonObject? batch))
                {
                    await WriteAsync(context, Error($"No batch found with id '{id}'."), 404);
                    return;
                }

                if (batch["status"]!.GetValue<string>() == "cancelling" || (!Hold && !Running(batch)))
                {
                    await ProcessAsync(batch);
                }

                JsonObject copy;
                lock (_gate)
                {
                    copy = (JsonObject)batch.DeepClone();
                }

                await WriteAsync(context, copy);
            }
            else
            {
                await WriteAsync(context, Error($"Unknown route {method} {path}"), 404);
            }
        }
        catch (Exception ex)
        {
            try
            {
                await WriteAsync(context, Error(ex.ToString()), 500);
            }
            catch (Exception)
            {
                // The client went away.
            }
        }
    }

    private async Task UploadAsync(HttpListenerContext context)
    {
        string contentType = context.Request.ContentType ?? string.Empty;
        string boundary = contentType.Split(';').Select(p => p.Trim()).First(p => p.StartsWith("boundary=", StringComparison.Ordinal))["boundary=".Length..].Trim('"');
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        string body = await reader.ReadToEndAsync();
        string? purpose = null;
        string? file = null;
        foreach (string part in body.Split("--" + boundary).Skip(1))
        {
            int split = part.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (split < 0)
            {
                continue;
            }

            string headers = part[..split];
            string content = part[(split + 4)..];
            content = content.EndsWith("\r\n", StringComparison.Ordinal) ? content[..^2] : content;
            if (headers.Contains("name=purpose", StringComparison.Ordinal) || headers.Contains("name=\"purpose\"", StringComparison.Ordinal))
            {
                purpose = content;
            }
            else if (headers.Contains("name=file", StringComparison.Ordinal) || headers.Contains("name=\"file\"", StringComparison.Ordinal))
            {
                file = content;
            }
        }

        if (purpose != "batch" || file is null)
        {
            await WriteAsync(context, Error($"An upload needs purpose 'batch' and a file (purpose was '{purpose}')."), 400);
            return;
        }

        string id = "file-" + Interlocked.Increment(ref _fileCount);
        _files[id] = file;
        await WriteAsync(context, new JsonObject { ["id"] = id, ["object"] = "file", ["bytes"] = Encoding.UTF8.GetByteCount(file), ["purpose"] = "batch" });
    }

    private async Task CreateAsync(HttpListenerContext context)
    {
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        JsonObject request = JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
        string fileId = request["input_file_id"]!.GetValue<string>();
        if (request["endpoint"]?.GetValue<string>() != "/v1/chat/completions" || request["completion_window"]?.GetValue<string>() != "24h" || !_files.TryGetValue(fileId, out string? input))
        {
            await WriteAsync(context, Error("A batch needs an uploaded input file, endpoint /v1/chat/completions and completion_window 24h."), 400);
            return;
        }

        if (Interlocked.Decrement(ref RejectCreations) >= 0)
        {
            await WriteAsync(context, Error("Model 'gpt-4o-mini' is not available for batches in this project."), 400);
            return;
        }

        List<JsonObject> lines = [.. input.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject())];
        int number = Interlocked.Increment(ref _batchCount);
        string id = "batch_" + number;
        var batch = new JsonObject
        {
            ["id"] = id,
            ["object"] = "batch",
            ["endpoint"] = "/v1/chat/completions",
            ["input_file_id"] = fileId,
            ["completion_window"] = "24h",
            ["status"] = "in_progress",
            ["created_at"] = Clock.GetUtcNow().ToUnixTimeSeconds(),
            ["number"] = number,
            ["request_counts"] = new JsonObject { ["total"] = lines.Count, ["completed"] = 0, ["failed"] = 0 },
        };
        _batches[id] = batch;
        _open[id] = lines;
        if (KeepHistory)
        {
            _submitted.Enqueue((id, lines));
        }
        else
        {
            _files.TryRemove(fileId, out _);
        }

        _createdAt.Enqueue(Clock.GetUtcNow());
        if (LoseNextCreateAnswer)
        {
            LoseNextCreateAnswer = false;
            await WriteAsync(context, Error("upstream connect error"), 502);
            return;
        }

        await WriteAsync(context, (JsonObject)batch.DeepClone());
    }

    private bool Running(JsonObject batch) =>
        Duration?.Invoke(batch["number"]!.GetValue<int>()) is TimeSpan duration
        && Clock.GetUtcNow() < DateTimeOffset.FromUnixTimeSeconds(batch["created_at"]!.GetValue<long>()) + duration;

    private async Task ProcessAsync(JsonObject batch)
    {
        bool cancelled;
        lock (_gate)
        {
            string status = batch["status"]!.GetValue<string>();
            if (status is not ("in_progress" or "cancelling"))
            {
                return;
            }

            cancelled = status == "cancelling";
            batch["status"] = cancelled ? "cancelling-now" : "finalizing";
        }

        int number = batch["number"]!.GetValue<int>();
        string id = batch["id"]!.GetValue<string>();
        _open.TryRemove(id, out List<JsonObject>? lines);
        lines ??= [];

        // A cancelled batch ends like an expired one: the lines answered before the cancellation are in its output.
        BatchOutcome outcome = cancelled ? BatchOutcome.Expired : Outcome?.Invoke(number) ?? BatchOutcome.Completed;
        var output = new StringBuilder();
        var errors = new StringBuilder();
        int completed = 0;
        int failed = 0;
        if (outcome is not (BatchOutcome.Failed or BatchOutcome.TokenLimited))
        {
            int answerable = outcome == BatchOutcome.Expired ? lines.Count / 2 : lines.Count;
            for (int i = 0; i < answerable; i++)
            {
                JsonObject line = lines[i];
                string customId = line["custom_id"]!.GetValue<string>();
                var (messages, options) = Parse(line["body"]!.AsObject());
                string? failure = LineFailure?.Invoke(number, new FakeRequest(messages, options, 1 + messages.Count(m => m.Role == ChatRole.Assistant)));
                if (failure == "error")
                {
                    failed++;
                    errors.Append(new JsonObject
                    {
                        ["id"] = "batch_req_" + Guid.NewGuid().ToString("N"),
                        ["custom_id"] = customId,
                        ["response"] = null,
                        ["error"] = new JsonObject { ["code"] = "server_error", ["message"] = "The model had an error processing this request." },
                    }.ToJsonString()).Append('\n');
                    continue;
                }

                if (failure == "500")
                {
                    failed++;
                    output.Append(new JsonObject
                    {
                        ["id"] = "batch_req_" + Guid.NewGuid().ToString("N"),
                        ["custom_id"] = customId,
                        ["response"] = new JsonObject { ["status_code"] = 500, ["request_id"] = "req_x", ["body"] = Error("Internal server error") },
                        ["error"] = null,
                    }.ToJsonString()).Append('\n');
                    continue;
                }

                ChatResponse response = await Model.GetResponseAsync(messages, options);
                Interlocked.Increment(ref _answeredCount);
                if (KeepHistory)
                {
                    _answered.Enqueue(customId);
                }

                completed++;
                output.Append(new JsonObject
                {
                    ["id"] = "batch_req_" + Guid.NewGuid().ToString("N"),
                    ["custom_id"] = customId,
                    ["response"] = new JsonObject
                    {
                        ["status_code"] = 200,
                        ["request_id"] = "req_" + Guid.NewGuid().ToString("N"),
                        ["body"] = Completion(response),
                    },
                    ["error"] = null,
                }.ToJsonString()).Append('\n');
            }
        }

        lock (_gate)
        {
            if (output.Length > 0)
            {
                string file = "file-" + Interlocked.Increment(ref _fileCount);
                _files[file] = MangleOutput?.Invoke(number, output.ToString()) ?? output.ToString();
                batch["output_file_id"] = file;
            }

            if (errors.Length > 0)
            {
                string file = "file-" + Interlocked.Increment(ref _fileCount);
                _files[file] = errors.ToString();
                batch["error_file_id"] = file;
            }

            if (outcome == BatchOutcome.Failed)
            {
                batch["errors"] = new JsonObject
                {
                    ["object"] = "list",
                    ["data"] = new JsonArray(new JsonObject { ["code"] = "invalid_request", ["message"] = "The input file could not be validated." }),
                };
            }

            if (outcome == BatchOutcome.TokenLimited)
            {
                batch["errors"] = new JsonObject
                {
                    ["object"] = "list",
                    ["data"] = new JsonArray(new JsonObject
                    {
                        ["code"] = "token_limit_exceeded",
                        ["message"] = "Enqueued token limit reached for gpt-4o-mini in organization org-test. Limit: 2,000,000 enqueued tokens. Please try again once some in_progress batches have been completed.",
                    }),
                };
            }

            batch["request_counts"] = new JsonObject { ["total"] = lines.Count, ["completed"] = completed, ["failed"] = failed };
            batch["status"] = cancelled ? "cancelled" : outcome switch { BatchOutcome.Expired => "expired", BatchOutcome.Failed or BatchOutcome.TokenLimited => "failed", _ => "completed" };
        }
    }

    private JsonObject Completion(ChatResponse response) => FakeOpenAiServer.Completion(response, Model.ModelId, created: 1_700_000_000);

    private static JsonObject Error(string message) => new() { ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error" } };

    private static Task WriteAsync(HttpListenerContext context, JsonObject json, int status = 200) => WriteTextAsync(context, json.ToJsonString(), "application/json", status);

    private static async Task WriteTextAsync(HttpListenerContext context, string text, string contentType, int status = 200)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }
}
