using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rpm;

/// <summary>
/// Keeps one health check's last result for a while, and lets one probe run at a time: a probe that costs a model call
/// must not be paid by every request to the health endpoint (a load balancer may ask every few seconds, from several nodes).
/// </summary>
internal sealed class ProbeCache
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private HealthCheckResult _result;
    private DateTimeOffset _at;
    private bool _has;

    public async Task<HealthCheckResult> GetAsync(TimeSpan duration, TimeProvider time, Func<CancellationToken, Task<HealthCheckResult>> probe, CancellationToken cancellationToken, DateTimeOffset? staleBefore = null)
    {
        if (TryGet(duration, time, staleBefore, out HealthCheckResult cached))
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A probe that ran while this one waited answers for both.
            if (TryGet(duration, time, staleBefore, out cached))
            {
                return cached;
            }

            HealthCheckResult result = await probe(cancellationToken).ConfigureAwait(false);
            if (!cancellationToken.IsCancellationRequested)
            {
                _result = result;
                _at = time.GetUtcNow();
                _has = true;
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Gets when the kept result was probed, if one is kept.</summary>
    public DateTimeOffset? ProbedAt => _has ? _at : null;

    private bool TryGet(TimeSpan duration, TimeProvider time, DateTimeOffset? staleBefore, out HealthCheckResult result)
    {
        result = _result;
        return _has && duration > TimeSpan.Zero && time.GetUtcNow() - _at < duration && !(_at < staleBefore);
    }
}
