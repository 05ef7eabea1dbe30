using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Rpm.Tests.Fakes;

/// <summary>
/// An OpenAI-compatible HTTP endpoint on loopback (<c>/v1/models</c>, <c>/v1/chat/completions</c>) whose answers come
/// from a <see cref="FakeChatClient"/>. It lets tests drive the real Microsoft.Extensions.AI.OpenAI client over the wire.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<JsonObject> _bodies = new();

    public FakeOpenAiServer(FakeChatClient model)
    {
        Model = model;
        int port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/v1/");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public FakeChatClient Model { get; }

    public Uri Endpoint { get; }

    /// <summary>The JSON bodies of every chat-completions request, as sent over the wire.</summary>
    public IReadOnlyList<JsonObject> Bodies => [.. _bodies];

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

    /// <summary>Reads a chat-completions request body as the fake model sees it: the messages' text and the response format.</summary>
    public static (List<ChatMessage> Messages, ChatOptions Options) ReadRequest(JsonObject body)
    {
        var messages = body["messages"]!.AsArray().Select(m => new ChatMessage(
            new ChatRole(m!["role"]!.GetValue<string>()),
            m["content"] is JsonArray parts ? string.Concat(parts.Select(p => p!["text"]?.GetValue<string>())) : m["content"]!.GetValue<string>())).ToList();
        var options = new ChatOptions { ModelId = body["model"]?.GetValue<string>() };
        if (body["response_format"] is JsonObject format)
        {
            options.ResponseFormat = format["type"]!.GetValue<string>() == "json_schema"
                ? ChatResponseFormat.ForJsonSchema(JsonSerializer.SerializeToElement(format["json_schema"]!["schema"]), format["json_schema"]!["name"]!.GetValue<string>())
                : ChatResponseFormat.Json;
        }

        return (messages, options);
    }

    /// <summary>Writes a fake model's answer as an OpenAI chat completion, with its usage.</summary>
    public static JsonObject Completion(ChatResponse response, string modelId, long created) => new()
    {
        ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N"),
        ["object"] = "chat.completion",
        ["created"] = created,
        ["model"] = modelId,
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = response.Text },
            ["finish_reason"] = "stop",
        }),
        ["usage"] = new JsonObject
        {
            ["prompt_tokens"] = response.Usage?.InputTokenCount ?? 0,
            ["completion_tokens"] = response.Usage?.OutputTokenCount ?? 0,
            ["total_tokens"] = (response.Usage?.InputTokenCount ?? 0) + (response.Usage?.OutputTokenCount ?? 0),
        },
    };

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
            if (path.EndsWith("/models", StringComparison.Ordinal))
            {
                await WriteAsync(context, new JsonObject { ["object"] = "list", ["data"] = new JsonArray(new JsonObject { ["id"] = Model.ModelId, ["object"] = "model" }) });
                return;
            }

            if (!path.EndsWith("/chat/completions", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 404;
                context.Response.Close();
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            JsonObject body = JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
            _bodies.Enqueue(body);

            var (messages, options) = ReadRequest(body);
            ChatResponse response = await Model.GetResponseAsync(messages, options);
            await WriteAsync(context, Completion(response, Model.ModelId, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        }
        catch (Exception ex)
        {
            try
            {
                context.Response.StatusCode = 500;
                await WriteAsync(context, new JsonObject { ["error"] = new JsonObject { ["message"] = ex.Message } }, status: 500);
            }
            catch (Exception)
            {
                // The client went away; nothing to report to.
            }
        }
    }

    private static async Task WriteAsync(HttpListenerContext context, JsonObject json, int status = 200)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json.ToJsonString());
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }
}
