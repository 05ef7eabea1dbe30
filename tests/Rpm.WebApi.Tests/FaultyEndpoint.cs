using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Rpm.Tests.Fakes;

namespace Rpm.WebApi.Tests;

/// <summary>How the fake endpoint answers one request instead of the model.</summary>
public sealed record Fault(int Status, string Body, TimeSpan? RetryAfter = null, bool Hang = false)
{
    /// <summary>503 with an OpenAI-shaped error body, optionally with Retry-After in seconds.</summary>
    public static Fault Unavailable(TimeSpan? retryAfter = null) => new(503, """{"error":{"message":"The server is overloaded; prompt was: SECRET-PROMPT","type":"server_error"}}""", retryAfter);

    /// <summary>429 with Retry-After, as OpenAI sends it.</summary>
    public static Fault RateLimited(TimeSpan retryAfter) => new(429, """{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}""", retryAfter);

    /// <summary>A 200 whose message content is not the JSON the schema asks for.</summary>
    public static Fault MalformedJson() => new(200, "{\"features\": [ {\"name\": \"cut mid-way");

    /// <summary>No answer until the client gives up (a timeout).</summary>
    public static Fault Timeout() => new(0, string.Empty, Hang: true);
}

/// <summary>
/// An OpenAI-compatible endpoint on loopback (<c>/v1/chat/completions</c>, streaming too) that answers RPM's structured
/// stage calls with <see cref="FakeChatClient"/>, plain chat turns with a fixed text, and fails the way real endpoints
/// do when <see cref="FaultFor"/> says so: 429 or 503 with <c>Retry-After</c>, malformed JSON, no answer at all.
/// </summary>
public sealed class FaultyEndpoint : IAsyncDisposable
{
    public const string PlainReply = "Heat is a film you would likely rate highly.";

    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<JsonObject> _bodies = new();
    private readonly CancellationTokenSource _stopping = new();

    public FaultyEndpoint()
    {
        int port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/v1/");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri Endpoint { get; }

    public FakeChatClient Model { get; } = new();

    /// <summary>Decides a fault for a request body (null: answer normally). Tests set it; it is read for every request.</summary>
    public Func<JsonObject, Fault?>? FaultFor { get; set; }

    public IReadOnlyList<JsonObject> Bodies => [.. _bodies];

    /// <summary>True for one of RPM's own stage calls (they carry a JSON schema), false for the app's chat turn or a probe.</summary>
    public static bool IsStageCall(JsonObject body) => body["response_format"] is JsonObject;

    public static string SystemText(JsonObject body) => string.Concat(body["messages"]!.AsArray()
        .Where(m => m!["role"]!.GetValue<string>() is "system" or "developer")
        .Select(m => m!["content"] is JsonArray parts ? string.Concat(parts.Select(p => p!["text"]?.GetValue<string>())) : m["content"]!.GetValue<string>()));

    public static string UserText(JsonObject body) => string.Concat(body["messages"]!.AsArray()
        .Where(m => m!["role"]!.GetValue<string>() == "user")
        .Select(m => m!["content"] is JsonArray parts ? string.Concat(parts.Select(p => p!["text"]?.GetValue<string>())) : m["content"]!.GetValue<string>()));

    public void Reset()
    {
        FaultFor = null;
        _bodies.Clear();
        Model.Reset();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }

        _stopping.Dispose();
    }

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
            if (!context.Request.Url!.AbsolutePath.TrimEnd('/').EndsWith("/chat/completions", StringComparison.Ordinal))
            {
                await WriteAsync(context, 404, "{}");
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            JsonObject body = JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
            _bodies.Enqueue(body);
            bool stream = body["stream"]?.GetValue<bool>() == true;

            if (FaultFor?.Invoke(body) is { } fault)
            {
                if (fault.Hang)
                {
                    await Task.Delay(Timeout.Infinite, _stopping.Token);
                    return;
                }

                if (fault.Status == 200)
                {
                    await WriteCompletionAsync(context, fault.Body, stream);
                    return;
                }

                if (fault.RetryAfter is { } wait)
                {
                    context.Response.AddHeader("Retry-After", ((int)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                await WriteAsync(context, fault.Status, fault.Body);
                return;
            }

            string text;
            if (IsStageCall(body))
            {
                var (messages, options) = FakeOpenAiServer.ReadRequest(body);
                ChatResponse response = await Model.GetResponseAsync(messages, options);
                text = response.Text;
            }
            else
            {
                text = PlainReply;
            }

            await WriteCompletionAsync(context, text, stream);
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpListenerException or ObjectDisposedException)
        {
            // The endpoint is stopping, or the client went away.
        }
    }

    private static Task WriteCompletionAsync(HttpListenerContext context, string text, bool stream)
    {
        if (!stream)
        {
            JsonObject completion = FakeOpenAiServer.Completion(
                new ChatResponse(new ChatMessage(ChatRole.Assistant, text)) { Usage = new() { InputTokenCount = 100, OutputTokenCount = 20 } },
                "fake-model",
                DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            return WriteAsync(context, 200, completion.ToJsonString());
        }

        // Server-sent events as OpenAI streams them: one chunk per word, a final chunk with the finish reason, [DONE].
        var events = new StringBuilder();
        string[] words = text.Split(' ');
        for (int i = 0; i < words.Length; i++)
        {
            events.Append("data: ").Append(Chunk(i == 0 ? words[i] : " " + words[i], null).ToJsonString()).Append("\n\n");
        }

        events.Append("data: ").Append(Chunk(null, "stop").ToJsonString()).Append("\n\n").Append("data: [DONE]\n\n");
        return WriteAsync(context, 200, events.ToString(), "text/event-stream");
    }

    private static JsonObject Chunk(string? content, string? finish) => new()
    {
        ["id"] = "chatcmpl-stream",
        ["object"] = "chat.completion.chunk",
        ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["model"] = "fake-model",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["delta"] = content is null ? new JsonObject() : new JsonObject { ["role"] = "assistant", ["content"] = content },
            ["finish_reason"] = finish,
        }),
    };

    private static async Task WriteAsync(HttpListenerContext context, int status, string body, string contentType = "application/json")
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }
}
