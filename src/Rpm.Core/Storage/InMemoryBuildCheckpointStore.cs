namespace Rpm;

/// <summary>Keeps build checkpoints in process memory: a build cancelled or failed in this process resumes without repeating calls.</summary>
public sealed class InMemoryBuildCheckpointStore : IBuildCheckpointStore
{
    private readonly Dictionary<(string UserId, string BuildKey), Dictionary<string, string>> _entries = [];
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, string>> LoadAsync(string userId, string buildKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(buildKey);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyDictionary<string, string> copy = _entries.TryGetValue((userId, buildKey), out var entries)
                ? new Dictionary<string, string>(entries, StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal);
            return Task.FromResult(copy);
        }
    }

    /// <inheritdoc />
    public Task SaveAsync(string userId, string buildKey, string entryKey, string value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(buildKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(entryKey);
        ArgumentNullException.ThrowIfNull(value);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_entries.TryGetValue((userId, buildKey), out var entries))
            {
                entries = new Dictionary<string, string>(StringComparer.Ordinal);
                _entries[(userId, buildKey)] = entries;
            }

            entries[entryKey] = value;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ClearAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            foreach (var key in _entries.Keys.Where(k => k.UserId == userId).ToList())
            {
                _entries.Remove(key);
            }
        }

        return Task.CompletedTask;
    }
}
