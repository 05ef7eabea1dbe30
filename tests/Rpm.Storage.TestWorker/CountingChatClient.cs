using Microsoft.Extensions.AI;

namespace Rpm.Storage.TestWorker;

/// <summary>Counts the calls the inner client answered.</summary>
public sealed class CountingChatClient(IChatClient inner, Action answered) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ChatResponse response = await base.GetResponseAsync(messages, options, cancellationToken);
        answered();
        return response;
    }
}
