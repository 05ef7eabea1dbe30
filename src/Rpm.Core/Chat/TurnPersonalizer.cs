using System.Diagnostics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;

namespace Rpm;

/// <summary>
/// Personalizes live chat turns and agent runs (<see cref="RpmPipeline.PersonalizeTurnAsync"/>): one entity-tag read
/// per turn, the model from memory while the tag matches, the further requests of a turn from a cache, a time budget,
/// and every failure reported and absorbed (unless the caller asks for it to throw), all in one <c>rpm.personalize</c>
/// span with the store read, the feature call and the retrieval under it.
/// </summary>
internal sealed class TurnPersonalizer : IDisposable
{
    /// <summary>Where the turn's model came from: <c>memory</c> (the model cache, or the in-memory store) or <c>store</c> (read and decoded).</summary>
    private const string UserModelSourceAttribute = "rpm.user_model.source";

    private readonly Personalizer _personalizer;
    private readonly UserModelCache _models;
    private readonly PipelineTelemetry _telemetry;
    private readonly MemoryCache? _personalizations;

    // Per user, ends every kept personalization of the user at once (erasure): the cache's keys hold the user's messages.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CancellationTokenSource> _users = new(StringComparer.Ordinal);

    public TurnPersonalizer(Personalizer personalizer, UserModelCache models, RpmOptions options, PipelineTelemetry telemetry)
    {
        _personalizer = personalizer;
        _models = models;
        _telemetry = telemetry;
        _personalizations = options.PersonalizationCacheSize > 0
            ? new MemoryCache(new MemoryCacheOptions { SizeLimit = options.PersonalizationCacheSize })
            : null;
    }

    /// <summary>Drops every kept personalization of a user (the user was erased).</summary>
    public void Forget(string userId)
    {
        if (_users.TryRemove(userId, out CancellationTokenSource? user))
        {
            user.Cancel();
            user.Dispose();
        }

        // Expiration tokens are seen on the next access; compact now so no entry of the user stays in memory.
        _personalizations?.Compact(0);
    }

    public async Task<RpmPersonalization?> PersonalizeAsync(string userId, string message, RpmPersonalizationOptions turn, CancellationToken cancellationToken)
    {
        // The mark flows into every call below (RPM's own calls pass personalizing middleware through, and transports
        // give them no retries: the turn's own call follows) and ends when this method returns.
        RpmStageCall.EnterPersonalization();
        using Activity? activity = RpmTelemetry.Source.StartActivity("rpm.personalize");
        activity?.SetTag(RpmTelemetry.UserIdAttribute, _telemetry.UserId(userId));
        activity?.SetTag("rpm.mode", ModeName(turn.Mode));
        long started = _telemetry.Time.GetTimestamp();
        using CancellationTokenSource? deadline = turn.Timeout == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(turn.Timeout, _telemetry.Time);
        using CancellationTokenSource budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline?.Token ?? CancellationToken.None);
        UserModel? model = null;
        string? source = null;
        try
        {
            string? etag = await _telemetry.SpanAsync("rpm.store.read", span =>
            {
                span?.SetTag("rpm.read", "etag");
                return _models.GetETagAsync(userId, budget.Token);
            }).ConfigureAwait(false);
            if (etag is null)
            {
                return Done(null, "no_model");
            }

            var key = new Key(userId, etag, turn.Mode, message);
            if (_personalizations is not null && _personalizations.TryGetValue(key, out RpmPersonalization? cached) && cached is not null)
            {
                // The same text again, for nothing: the usage says so (the first request reported the feature call).
                return Done(cached.Reused(), "cached");
            }

            (model, bool fromMemory) = await _telemetry.SpanAsync("rpm.store.read", async span =>
            {
                span?.SetTag("rpm.read", "model");
                (UserModel? Model, bool FromMemory) read = await _models.ReadAsync(userId, etag, budget.Token).ConfigureAwait(false);
                span?.SetTag(UserModelSourceAttribute, read.FromMemory ? "memory" : "store");
                return read;
            }).ConfigureAwait(false);
            source = fromMemory ? "memory" : "store";
            activity?.SetTag(UserModelSourceAttribute, source);
            if (model is null)
            {
                return Done(null, "no_model");
            }

            RpmPersonalization personalization = await _personalizer.PersonalizeAsync(model, message, turn.Mode, budget.Token).ConfigureAwait(false);
            if (personalization.FallbackReason is not null)
            {
                // A degraded personalization (the feature call failed) is used once, never kept.
                RpmLog.PersonalizationDegraded(_telemetry.Logger, _telemetry.UserId(userId), _telemetry.Scrub(personalization.FallbackReason, userId));
                return Done(personalization, "degraded");
            }

            if (_personalizations is not null)
            {
                // A kept personalization holds its model: it leaves the cache when the model does.
                var entry = new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(10) };
                if (_models.Lifetime(userId, etag) is CancellationToken lifetime)
                {
                    entry.AddExpirationToken(new CancellationChangeToken(lifetime));
                }

                entry.AddExpirationToken(new CancellationChangeToken(_users.GetOrAdd(userId, _ => new CancellationTokenSource()).Token));

                _personalizations.Set(key, personalization, entry);
            }

            return Done(personalization, "personalized");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up on the turn itself: not a personalization failure.
            Record("cancelled", null);
            throw;
        }
        catch (Exception ex)
        {
            bool timedOut = ex is OperationCanceledException && deadline?.IsCancellationRequested == true;
            string reason = timedOut
                ? $"personalizing took longer than its timeout of {turn.Timeout.TotalSeconds:0.###} s and was abandoned."
                : Describe(ex);
            Exception failure = timedOut ? new TimeoutException($"Personalizing the turn of user '{userId}' took longer than its timeout of {turn.Timeout.TotalSeconds:0.###} s.", ex) : ex;
            _telemetry.Failed(activity, failure, userId);
            Record("failed", failure);
            RpmLog.PersonalizationFailed(_telemetry.Logger, _telemetry.UserId(userId), _telemetry.Scrub(reason, userId));
            if (turn.ThrowOnFailure)
            {
                if (timedOut)
                {
                    throw failure;
                }

                throw;
            }

            return RpmPersonalization.Failed(userId, model, message, turn.Mode, (ex as RpmStageException)?.Usage ?? ModelUsage.None, reason, failure);
        }

        RpmPersonalization? Done(RpmPersonalization? result, string outcome)
        {
            activity?.SetTag("rpm.outcome", outcome);
            if (result is not null)
            {
                activity?.SetTag("rpm.examples", result.Examples.Count);
            }

            Record(outcome, null);
            return result;
        }

        void Record(string outcome, Exception? error)
        {
            activity?.SetTag("rpm.outcome", outcome);
            if (!_telemetry.Metrics.PersonalizeDuration.Enabled)
            {
                return;
            }

            var tags = new TagList { { "rpm.outcome", outcome }, { "rpm.mode", ModeName(turn.Mode) } };
            if (source is not null)
            {
                tags.Add(UserModelSourceAttribute, source);
            }

            if (error is not null)
            {
                tags.Add("error.type", error.GetType().FullName);
            }

            _telemetry.Metrics.PersonalizeDuration.Record(_telemetry.Time.GetElapsedTime(started).TotalSeconds, tags);
        }
    }

    public void Dispose() => _personalizations?.Dispose();

    private static string ModeName(RpmPersonalizationMode mode) => mode switch
    {
        RpmPersonalizationMode.QueryFeatures => "query_features",
        RpmPersonalizationMode.MessageEmbedding => "message_embedding",
        _ => mode.ToString(),
    };

    private static string Describe(Exception ex) => ex switch
    {
        RpmStageException stage => stage.Message,
        RpmStoreException store => $"the user model store failed: {store.Message}",
        InvalidDataException data => $"the user's stored model cannot be read: {data.Message}",
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };

    private sealed record Key(string UserId, string ETag, RpmPersonalizationMode Mode, string Message);
}
