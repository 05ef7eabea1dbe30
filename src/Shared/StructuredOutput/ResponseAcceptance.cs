using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Lets an answer cache below <see cref="ValidatedChatClientExtensions.GetValidatedResponseAsync"/> keep only the answers
/// the reader accepted: a cache hands its write to <see cref="TryDefer"/> instead of writing at once, and the write
/// happens only when the response validated (and then even when the caller is being cancelled, because the answer was
/// paid for). An answer that was invalid, cut off, refused or filtered is never written, so a re-run asks again.
/// </summary>
/// <remarks>
/// When a repair turn fixed an answer, the accepted answer is also written under the first request's key, so that a
/// re-run of the same request is served the valid answer and pays nothing. Works through any layers that keep the
/// async flow (delegating chat clients do); outside a validated read, <see cref="TryDefer"/> returns <see langword="false"/>.
/// </remarks>
internal static class ResponseAcceptance
{
    // Shared with every other Rpm assembly that compiles this file: a cache in Rpm.Evaluation defers to the validated
    // reads of Rpm.Core's stages as well as to its own baselines' (the list is a framework type, the same in every copy).
    private static readonly AsyncLocal<List<(bool FromCache, Func<ChatResponse, CancellationToken, Task> Write)>?> Current =
        ProcessSlot.Get<List<(bool FromCache, Func<ChatResponse, CancellationToken, Task> Write)>?>("Rpm.ResponseAcceptance");

    /// <summary>Called by a cache for the response it is about to return: defers the cache write until the response is accepted.</summary>
    /// <param name="response">The response the cache returns (from the model, or from the cache itself).</param>
    /// <param name="fromCache">Whether the response was read from the cache (then it is written again only under the first request's key, after a repair).</param>
    /// <param name="write">Writes a response under this request's key; called with <see cref="CancellationToken.None"/>.</param>
    /// <returns><see langword="true"/> when a validated read will decide; <see langword="false"/> when none is listening (write now if the response is complete).</returns>
    public static bool TryDefer(ChatResponse response, bool fromCache, Func<ChatResponse, CancellationToken, Task> write)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(write);
        var writes = Current.Value;
        if (writes is null)
        {
            return false;
        }

        writes.Add((fromCache, write));
        return true;
    }

    /// <summary>Tells whether a response is complete enough to cache when no validated read is listening.</summary>
    /// <param name="response">The response.</param>
    /// <returns><see langword="false"/> for an answer stopped at the token limit or by a content filter, a refusal, or an empty answer.</returns>
    public static bool IsComplete(ChatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.FinishReason == ChatFinishReason.Length || response.FinishReason == ChatFinishReason.ContentFilter)
        {
            return false;
        }

        if (response.Messages.SelectMany(m => m.Contents).OfType<ErrorContent>().Any())
        {
            return false;
        }

        return !string.IsNullOrWhiteSpace(response.Text);
    }

    /// <summary>Runs one request of a validated read with its own pending writes.</summary>
    internal static async Task<(ChatResponse Response, Attempt Attempt)> SendAsync(
        IChatClient client, IEnumerable<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        var attempt = new Attempt();
        var outer = Current.Value;
        Current.Value = attempt.Writes;
        try
        {
            ChatResponse response = await client.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
            return (response, attempt);
        }
        finally
        {
            Current.Value = outer;
        }
    }

    /// <summary>Writes the accepted response: under its own request's key (unless it came from there), and under the first request's.</summary>
    internal static async Task AcceptAsync(ChatResponse accepted, Attempt acceptedAttempt, Attempt? firstAttempt)
    {
        foreach (var (fromCache, write) in acceptedAttempt.Writes)
        {
            if (!fromCache)
            {
                await write(accepted, CancellationToken.None).ConfigureAwait(false);
            }
        }

        if (firstAttempt is not null && !ReferenceEquals(firstAttempt, acceptedAttempt))
        {
            foreach (var (_, write) in firstAttempt.Writes)
            {
                await write(accepted, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The cache writes pending for one request.</summary>
    internal sealed class Attempt
    {
        public List<(bool FromCache, Func<ChatResponse, CancellationToken, Task> Write)> Writes { get; } = [];
    }
}
