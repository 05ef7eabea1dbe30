using System.Collections.Concurrent;

namespace Rpm;

/// <summary>The requests one wave of builds asked for and found no answer to: the body to send, and who is waiting.</summary>
internal sealed class PendingRequests
{
    private readonly ConcurrentDictionary<string, PendingRequest> _requests = new(StringComparer.Ordinal);
    private int _order;

    public int Count => _requests.Count;

    public IReadOnlyList<PendingRequest> All => [.. _requests.Values.OrderBy(r => r.Order)];

    public void Add(string key, string body, string? userId, RpmStage? stage)
    {
        PendingRequest request = _requests.GetOrAdd(key, k => new PendingRequest(k, body, stage, Interlocked.Increment(ref _order)));
        if (userId is not null)
        {
            lock (request.Users)
            {
                request.Users.Add(userId);
            }
        }
    }

    /// <summary>One request without an answer. Two users asking the very same thing share it (and its price).</summary>
    internal sealed class PendingRequest(string key, string body, RpmStage? stage, int order)
    {
        public string Key { get; } = key;

        public string Body { get; } = body;

        public RpmStage? Stage { get; } = stage;

        public int Order { get; } = order;

        public HashSet<string> Users { get; } = new(StringComparer.Ordinal);
    }
}
