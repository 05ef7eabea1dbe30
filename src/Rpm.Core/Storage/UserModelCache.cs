using Microsoft.Extensions.Caching.Memory;

namespace Rpm;

/// <summary>
/// Keeps recently used user models in memory, each under the store's entity tag it was read with, so that a warm turn
/// costs one tag read (<see cref="IUserModelStore.GetETagAsync"/>) instead of reading, checksumming and deserializing
/// the whole model and rebuilding its search matrix (the retriever keeps one per model instance).
/// </summary>
/// <remarks>
/// A cached model is used only while the store's tag equals the one it was read with, so a save by another process or
/// host is seen on the next read. Bounded by <see cref="RpmOptions.UserModelCacheSize"/> bytes (estimated per model),
/// least recently used first out. Thread-safe.
/// </remarks>
internal sealed class UserModelCache : IDisposable
{
    private readonly IUserModelStore _store;
    private readonly MemoryCache? _cache;

    public UserModelCache(IUserModelStore store, RpmOptions options)
    {
        _store = store;

        // The in-memory store already holds each model once, immutable: a second copy would only count it twice.
        _cache = options.UserModelCacheSize > 0 && store is not InMemoryUserModelStore
            ? new MemoryCache(new MemoryCacheOptions { SizeLimit = options.UserModelCacheSize, CompactionPercentage = 0.25 })
            : null;
    }

    /// <summary>Gets the store's entity tag of a user's model, or <see langword="null"/> when none is saved (and forgets a cached one).</summary>
    public async Task<string?> GetETagAsync(string userId, CancellationToken cancellationToken)
    {
        string? etag = await _store.GetETagAsync(userId, cancellationToken).ConfigureAwait(false);
        if (etag is null)
        {
            _cache?.Remove(userId);
        }

        return etag;
    }

    /// <summary>Gets a user's model as of <paramref name="etag"/> (read by <see cref="GetETagAsync"/>): from memory when it is cached under that tag, else from the store.</summary>
    public async Task<UserModel?> GetAsync(string userId, string etag, CancellationToken cancellationToken) =>
        (await ReadAsync(userId, etag, cancellationToken).ConfigureAwait(false)).Model;

    /// <summary>As <see cref="GetAsync(string, string, CancellationToken)"/>, and says whether the model came from memory.</summary>
    public async Task<(UserModel? Model, bool FromMemory)> ReadAsync(string userId, string etag, CancellationToken cancellationToken)
    {
        if (_cache is not null && _cache.TryGetValue(userId, out Entry? entry) && entry is not null && entry.ETag == etag)
        {
            return (entry.Model, true);
        }

        // The in-memory store hands back its own instance: that is memory too.
        bool fromMemory = _store is InMemoryUserModelStore;

        UserModel? model = await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false);
        if (_cache is null)
        {
            return (model, fromMemory);
        }

        if (model is null)
        {
            _cache.Remove(userId);
            return (null, fromMemory);
        }

        // A save between the tag read and this read leaves a newer model under the older tag: the next turn's tag
        // differs, so it reads again. A model is never kept under a tag newer than itself.
        var options = new MemoryCacheEntryOptions { Size = EstimateSize(model) };
        options.RegisterPostEvictionCallback(static (_, value, _, _) => ((Entry)value!).Evicted.Cancel());
        _cache.Set(userId, new Entry(etag, model), options);
        return (model, fromMemory);
    }

    /// <summary>
    /// Gets a token cancelled when the model kept for the user under <paramref name="etag"/> leaves the cache, so that
    /// what holds on to the model (a kept personalization) leaves with it and memory stays within the limit; or
    /// <see langword="null"/> when no such model is kept (nothing to tie to).
    /// </summary>
    public CancellationToken? Lifetime(string userId, string etag) =>
        _cache is not null && _cache.TryGetValue(userId, out Entry? entry) && entry is not null && entry.ETag == etag ? entry.Evicted.Token : null;

    /// <summary>Gets a user's current model: a tag read, then the model from memory or the store.</summary>
    public async Task<UserModel?> GetAsync(string userId, CancellationToken cancellationToken)
    {
        if (_cache is null)
        {
            return await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false);
        }

        string? etag = await GetETagAsync(userId, cancellationToken).ConfigureAwait(false);
        return etag is null ? null : await GetAsync(userId, etag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Forgets a user's cached model (this process saved or deleted it).</summary>
    public void Invalidate(string userId) => _cache?.Remove(userId);

    public void Dispose() => _cache?.Dispose();

    /// <summary>Estimates the bytes a model holds: its embeddings (and the search matrix built from them), its text, and a fixed overhead per object.</summary>
    internal static long EstimateSize(UserModel model)
    {
        const long PerObject = 64;
        long size = 1024;
        foreach (FactorStatistics statistics in model.Statistics)
        {
            size += PerObject + (2L * (statistics.Factor.Name.Length + statistics.Factor.Description.Length)) + (96L * (statistics.Propensity.Count + statistics.LabelCounts.Count));
        }

        foreach (ReasoningPath path in model.Paths)
        {
            // The embedding, and its row in the retriever's normalized matrix.
            size += PerObject + (2L * sizeof(float) * path.Embedding.Length);
            size += PerObject + (2L * (path.Item.Id.Length + path.Item.Input.Length + path.Item.Output.Length + path.Reasoning.Length));
            foreach (Feature feature in path.Features)
            {
                size += PerObject + (2L * (feature.Name.Length + feature.Context.Length + (feature.Factor?.Length ?? 0)));
            }
        }

        return size;
    }

    private sealed record Entry(string ETag, UserModel Model)
    {
        public CancellationTokenSource Evicted { get; } = new();
    }
}
