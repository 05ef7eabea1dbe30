namespace Rpm;

/// <summary>
/// The outcome of the last real call through a chat client observed by <see cref="HealthObservingChatClient"/>: the
/// chat check reports it instead of paying a probe while it is recent. One per container, for the unkeyed client.
/// </summary>
internal sealed class ChatCallObserver
{
    private Outcome? _last;

    public Outcome? Last => Volatile.Read(ref _last);

    public void Record(DateTimeOffset at, Exception? failure) => Volatile.Write(ref _last, new Outcome(at, failure));

    /// <summary>Whether an exception says something about the endpoint: it was down, refused or too slow (not a cancellation by the caller, not an answer the pipeline could not use).</summary>
    public static bool IsEndpointFailure(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is RpmEndpointException or HttpRequestException or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    internal sealed record Outcome(DateTimeOffset At, Exception? Failure);
}
