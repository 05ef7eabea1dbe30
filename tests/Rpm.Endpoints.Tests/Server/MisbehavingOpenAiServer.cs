using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Rpm.Tests.Fakes;

namespace Rpm.Endpoints.Tests.Server;

/// <summary>
/// An OpenAI-compatible endpoint on loopback (real HTTP/1.1 over a TCP socket: <c>/v1/models</c> and
/// <c>/v1/chat/completions</c>). A cooperative model (<see cref="FakeChatClient"/>) writes every answer; <see cref="Behave"/>
/// lets a test replace any reply with what public bug reports say real servers send: reasoning blocks, numbers for
/// strings, answers cut at the token limit, refusals, filter stops, text in reasoning fields, error bodies that are
/// not OpenAI-shaped, rate limits with Retry-After, outages and dropped connections.
/// </summary>
public sealed class MisbehavingOpenAiServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<ServedRequest> _requests = new();
    private int _chatRequests;
    private int _paid;
    private long _outageUntilTicks;

    public MisbehavingOpenAiServer(string modelId = "catalogue-model")
    {
        Model = new FakeChatClient(modelId);
        _listener.Start();
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/v1/");
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Gets the cooperative model behind the good answers.</summary>
    public FakeChatClient Model { get; }

    public Uri Endpoint { get; }

    /// <summary>Gets or sets the behaviour: a reply for a request, or <see langword="null"/> for the good answer.</summary>
    public Func<ServedRequest, Reply?>? Behave { get; set; }

    /// <summary>Gets or sets a hook run after a reply was written (e.g. to cancel the client just after an answer arrived).</summary>
    public Action<ServedRequest, Reply>? AfterReply { get; set; }

    /// <summary>Gets every chat request received, in order of arrival.</summary>
    public IReadOnlyList<ServedRequest> Requests => [.. _requests];

    /// <summary>Gets the number of chat requests received (answered or not).</summary>
    public int ChatRequests => Volatile.Read(ref _chatRequests);

    /// <summary>Gets the number of completions served with status 200: the calls a provider bills.</summary>
    public int PaidCalls => Volatile.Read(ref _paid);

    /// <summary>Starts an outage: every chat request until then gets a 503 page from a proxy.</summary>
    public void StartOutage(TimeSpan duration) => Interlocked.Exchange(ref _outageUntilTicks, (DateTimeOffset.UtcNow + duration).UtcTicks);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            _ = Task.Run(() => ServeConnectionAsync(client));
        }
    }

    // HTTP/1.1 with keep-alive: requests on one connection are served in turn until the client closes it.
    private async Task ServeConnectionAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                while (await ReadRequestAsync(stream) is { } request)
                {
                    if (!await HandleAsync(stream, request.Path, request.Body))
                    {
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // The client went away.
            }
            catch (Exception ex)
            {
                // A bug in a test's behaviour: say so over the wire rather than hang the client.
                await WriteAsync(client.GetStream(), 500, "text/plain", "test server error: " + ex.Message, null);
            }
        }
    }

    private static async Task<(string Path, string Body)?> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0)
            {
                return null;
            }

            head.Add(one[0]);
        }

        string[] lines = Encoding.ASCII.GetString([.. head]).Split("\r\n");
        string path = lines[0].Split(' ')[1];
        int length = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => int.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        byte[] body = new byte[length];
        await stream.ReadExactlyAsync(body);
        return (path, Encoding.UTF8.GetString(body));
    }

    // Returns false when the connection must be closed (a dropped connection).
    private async Task<bool> HandleAsync(NetworkStream stream, string path, string bodyText)
    {
        path = path.Split('?')[0].TrimEnd('/');
        if (path.EndsWith("/models", StringComparison.Ordinal))
        {
            await WriteAsync(stream, 200, "application/json", new JsonObject { ["object"] = "list", ["data"] = new JsonArray(new JsonObject { ["id"] = Model.ModelId, ["object"] = "model" }) }.ToJsonString(), null);
            return true;
        }

        if (!path.EndsWith("/chat/completions", StringComparison.Ordinal))
        {
            await WriteAsync(stream, 404, "text/plain", "not found", null);
            return true;
        }

        JsonObject body = JsonNode.Parse(bodyText)!.AsObject();
        var request = new ServedRequest(Interlocked.Increment(ref _chatRequests), Parse(body), body);
        _requests.Enqueue(request);

        if (DateTimeOffset.UtcNow.UtcTicks < Interlocked.Read(ref _outageUntilTicks))
        {
            await WriteAsync(stream, 503, "text/html", "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>", null);
            return true;
        }

        Reply reply = Behave?.Invoke(request) ?? new Reply();
        if (reply.Delay > TimeSpan.Zero)
        {
            await Task.Delay(reply.Delay);
        }

        if (reply.DropConnection)
        {
            return false;
        }

        if (reply.Status != 200 || reply.RawBody is not null)
        {
            await WriteAsync(stream, reply.Status, reply.ContentType, reply.RawBody ?? string.Empty, reply.Headers);
            AfterReply?.Invoke(request, reply);
            return true;
        }

        string? content = reply.NullContent ? null : reply.Content ?? request.GoodAnswer;
        var message = new JsonObject { ["role"] = "assistant", ["content"] = content };
        if (reply.Refusal is not null)
        {
            message["refusal"] = reply.Refusal;
        }

        if (reply.ReasoningContent is not null)
        {
            message["reasoning_content"] = reply.ReasoningContent;
        }

        if (reply.Reasoning is not null)
        {
            message["reasoning"] = reply.Reasoning;
        }

        Interlocked.Increment(ref _paid);
        int prompt = request.Body["messages"]!.ToJsonString().Length / 4;
        await WriteAsync(stream, 200, "application/json", new JsonObject
        {
            ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N"),
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = Model.ModelId,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = reply.FinishReason }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = prompt, ["completion_tokens"] = 20, ["total_tokens"] = prompt + 20 },
        }.ToJsonString(), reply.Headers);
        AfterReply?.Invoke(request, reply);
        return true;
    }

    private static FakeRequest Parse(JsonObject body)
    {
        var messages = body["messages"]!.AsArray().Select(m => new ChatMessage(
            new ChatRole(m!["role"]!.GetValue<string>()),
            m["content"] switch
            {
                JsonArray parts => string.Concat(parts.Select(p => p!["text"]?.GetValue<string>())),
                JsonValue v => v.GetValue<string>(),
                _ => string.Empty,
            })).ToList();
        var options = new ChatOptions { ModelId = body["model"]?.GetValue<string>() };
        if (body["response_format"] is JsonObject format)
        {
            options.ResponseFormat = format["type"]!.GetValue<string>() == "json_schema"
                ? ChatResponseFormat.ForJsonSchema(JsonSerializer.SerializeToElement(format["json_schema"]!["schema"]), format["json_schema"]!["name"]!.GetValue<string>())
                : ChatResponseFormat.Json;
        }

        int attempt = 1 + messages.Count(m => m.Role == ChatRole.Assistant);
        return new FakeRequest(messages, options, attempt);
    }

    private static async Task WriteAsync(NetworkStream stream, int status, string contentType, string body, IReadOnlyDictionary<string, string>? headers)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        var head = new StringBuilder();
        head.Append(System.Globalization.CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {Phrase(status)}\r\n");
        head.Append(System.Globalization.CultureInfo.InvariantCulture, $"Content-Type: {contentType}; charset=utf-8\r\nContent-Length: {bytes.Length}\r\n");
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            head.Append(System.Globalization.CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        await stream.WriteAsync(bytes);
        await stream.FlushAsync();
    }

    private static string Phrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    };
}

/// <summary>One chat request the server received.</summary>
public sealed class ServedRequest(int number, FakeRequest request, JsonObject body)
{
    private string? _goodAnswer;

    /// <summary>Gets when the request arrived.</summary>
    public DateTimeOffset Arrived { get; } = DateTimeOffset.UtcNow;

    /// <summary>Gets the request's number, from 1, in order of arrival.</summary>
    public int Number { get; } = number;

    /// <summary>Gets the request as the fake model reads it (stage, data, attempt).</summary>
    public FakeRequest Request { get; } = request;

    /// <summary>Gets the JSON body as sent over the wire.</summary>
    public JsonObject Body { get; } = body;

    public RpmStage Stage => Request.Stage;

    /// <summary>Gets whether this is a repair turn (the conversation carries an earlier answer).</summary>
    public bool IsRepair => Request.Attempt > 1;

    /// <summary>Gets the answer a cooperative model gives (to the one-line test request of rpm, {"answer": "ok"}).</summary>
    public string GoodAnswer => _goodAnswer ??= Request.SchemaName == "rpm_preflight" || Request.AllText.Contains("\"answer\": \"ok\"", StringComparison.Ordinal)
        ? "{\"answer\": \"ok\"}"
        : FakeChatClient.Answer(Request);
}

/// <summary>What the server sends back instead of the good answer.</summary>
public sealed record Reply
{
    public int Status { get; init; } = 200;

    /// <summary>Gets the body of a non-200 reply, verbatim.</summary>
    public string? RawBody { get; init; }

    public string ContentType { get; init; } = "application/json";

    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Gets the assistant content; <see langword="null"/> for the good answer.</summary>
    public string? Content { get; init; }

    /// <summary>Gets a value indicating whether the content is JSON null (as with a refusal, or text moved to a reasoning field).</summary>
    public bool NullContent { get; init; }

    public string FinishReason { get; init; } = "stop";

    /// <summary>Gets OpenAI's structured-output refusal text.</summary>
    public string? Refusal { get; init; }

    /// <summary>Gets vLLM's and DeepSeek's reasoning field.</summary>
    public string? ReasoningContent { get; init; }

    /// <summary>Gets Ollama's reasoning field.</summary>
    public string? Reasoning { get; init; }

    /// <summary>Gets a value indicating whether the connection is closed without a response.</summary>
    public bool DropConnection { get; init; }

    public TimeSpan Delay { get; init; }

    public static Reply Error(int status, string body, string contentType = "text/plain", IReadOnlyDictionary<string, string>? headers = null) =>
        new() { Status = status, RawBody = body, ContentType = contentType, Headers = headers };
}
