using System.Globalization;

namespace Rpm;

/// <summary>Keeps user models in process memory: the default store; nothing survives the process.</summary>
/// <remarks>Thread-safe. Models are immutable, so readers never observe a partial save.</remarks>
public sealed class InMemoryUserModelStore : IUserModelStore
{
    private readonly Dictionary<string, UserModel> _models = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _saves = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    // Counts every save of this store, so that a tag never repeats (versions restart at 1 after a delete).
    private long _saveCount;

    /// <inheritdoc />
    public Task<UserModel?> GetAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_models.GetValueOrDefault(userId));
        }
    }

    /// <inheritdoc />
    Task<string?> IUserModelStore.GetETagAsync(string userId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_models.TryGetValue(userId, out UserModel? model)
                ? string.Create(CultureInfo.InvariantCulture, $"{model.Version}-{_saves[userId]}")
                : null);
        }
    }

    /// <inheritdoc />
    public Task<UserModel> SaveAsync(UserModel model, long? expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (expectedVersion is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedVersion), expectedVersion, "The expected version must be 0 (no model yet), a stored version, or null.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            long current = _models.TryGetValue(model.UserId, out UserModel? existing) ? existing.Version : 0;
            if (expectedVersion is long expected && expected != current)
            {
                throw new UserModelConcurrencyException(model.UserId, expected, current);
            }

            UserModel saved = model.WithVersion(current + 1);
            _models[model.UserId] = saved;
            _saves[model.UserId] = ++_saveCount;
            return Task.FromResult(saved);
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _saves.Remove(userId);
            return Task.FromResult(_models.Remove(userId));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListUserIdsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<string> ids = [.. _models.Keys.Order(StringComparer.Ordinal)];
            return Task.FromResult(ids);
        }
    }
}
