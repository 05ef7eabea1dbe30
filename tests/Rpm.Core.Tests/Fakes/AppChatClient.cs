using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Rpm.Tests.Fakes;

/// <summary>
/// The app's own chat model under the RPM middleware: records what it was sent and answers with plain text, streams
/// that text in three updates, or (once per <see cref="CallTool"/>) asks for a tool call first.
/// Requests that carry an RPM stage schema are handed to <see cref="Stages"/> when set.
/// </summary>
public sealed class AppChatClient : IChatClient
{
    private readonly ConcurrentQueue<(List<ChatMessage> Messages, ChatOptions? Options)> _requests = new();
    private int _toolCallsLeft;

    public FakeChatClient? Stages { get; init; }

    public IReadOnlyList<(List<ChatMessage> Messages, ChatOptions? Options)> Requests => [.. _requests];

    /// <summary>Makes the next answer a call of the named tool.</summary>
    public string? CallTool { get; set => (field, _toolCallsLeft) = (value, value is null ? 0 : 1); }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (Stages is not null && options?.ResponseFormat is ChatResponseFormatJson { SchemaName: not null })
        {
            return await Stages.GetResponseAsync(messages, options, cancellationToken);
        }

        _requests.Enqueue(([.. messages], options));
        if (CallTool is { } tool && Interlocked.Exchange(ref _toolCallsLeft, 0) == 1)
        {
            return new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call-1", tool, new Dictionary<string, object?> { ["title"] = "Aliens" })]));
        }

        return new ChatResponse(new ChatMessage(ChatRole.Assistant, "You will like it.")) { Usage = new() { InputTokenCount = 10, OutputTokenCount = 4 } };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        _requests.Enqueue(([.. messages], options));
        foreach (string part in new[] { "You ", "will ", "like it." })
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatResponseUpdate(ChatRole.Assistant, part);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
