using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Chat middleware that records whether each real call reached the endpoint (an answer, or the first streamed update,
/// is a success; an endpoint failure is a failure; a cancellation or an answer RPM could not use says nothing about the
/// endpoint), so that the chat health check need not pay a probe while the app is calling the model anyway.
/// </summary>
internal sealed class HealthObservingChatClient(IChatClient innerClient, ChatCallObserver observer, TimeProvider time) : DelegatingChatClient(innerClient)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        try
        {
            ChatResponse response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
            observer.Record(time.GetUtcNow(), null);
            return response;
        }
        catch (Exception ex) when (ChatCallObserver.IsEndpointFailure(ex))
        {
            observer.Record(time.GetUtcNow(), ex);
            throw;
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IAsyncEnumerator<ChatResponseUpdate> updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (updates.ConfigureAwait(false))
        {
            bool recorded = false;
            while (true)
            {
                bool more;
                try
                {
                    more = await updates.MoveNextAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ChatCallObserver.IsEndpointFailure(ex))
                {
                    observer.Record(time.GetUtcNow(), ex);
                    throw;
                }

                if (!more)
                {
                    break;
                }

                if (!recorded)
                {
                    observer.Record(time.GetUtcNow(), null);
                    recorded = true;
                }

                yield return updates.Current;
            }
        }
    }
}
