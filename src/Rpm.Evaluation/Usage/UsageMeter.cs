namespace Rpm.Evaluation;

/// <summary>A thread-safe running count of model calls and tokens.</summary>
internal sealed class UsageMeter
{
    private long _calls;
    private long _cached;
    private long _input;
    private long _output;
    private long _estimated;
    private long _reused;

    /// <summary>Records one call.</summary>
    /// <param name="inputTokens">Its input tokens.</param>
    /// <param name="outputTokens">Its output tokens.</param>
    /// <param name="cached">Whether it was served from the cache.</param>
    /// <param name="estimated">Whether its tokens were counted locally.</param>
    /// <param name="reused">Whether the cached answer was one this run had already received.</param>
    public void Record(long inputTokens, long outputTokens, bool cached, bool estimated, bool reused = false)
    {
        if (reused)
        {
            Interlocked.Increment(ref _reused);
        }

        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _input, inputTokens);
        Interlocked.Add(ref _output, outputTokens);
        if (cached)
        {
            Interlocked.Increment(ref _cached);
        }

        if (estimated)
        {
            Interlocked.Increment(ref _estimated);
        }
    }

    /// <summary>Returns the totals so far.</summary>
    /// <returns>The totals.</returns>
    public UsageTotals Snapshot() => new(Interlocked.Read(ref _calls), Interlocked.Read(ref _cached), Interlocked.Read(ref _input), Interlocked.Read(ref _output), Interlocked.Read(ref _estimated))
    {
        ReusedCalls = Interlocked.Read(ref _reused),
    };
}
