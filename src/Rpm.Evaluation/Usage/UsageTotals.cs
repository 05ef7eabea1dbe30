namespace Rpm.Evaluation;

/// <summary>What model calls cost: calls, tokens, and how many were served from the cache or had their tokens counted locally.</summary>
/// <param name="Calls">Model calls the method made (cache hits included: the method's cost, whatever this run paid).</param>
/// <param name="CachedCalls">Calls answered from the cache: an earlier run's answers, and <see cref="ReusedCalls"/>.</param>
/// <param name="InputTokens">Input tokens.</param>
/// <param name="OutputTokens">Output tokens.</param>
/// <param name="EstimatedCalls">Calls whose tokens the endpoint did not report, counted with the tokenizer instead.</param>
public sealed record UsageTotals(long Calls, long CachedCalls, long InputTokens, long OutputTokens, long EstimatedCalls)
{
    /// <summary>Gets usage of nothing.</summary>
    public static UsageTotals Zero { get; } = new(0, 0, 0, 0, 0);

    /// <summary>
    /// Gets the calls of <see cref="CachedCalls"/> answered with an answer this same run had already received (methods that
    /// share a build, such as rpm and rpm-fallback, or a repeated prompt): reuse, not a saving from an earlier run.
    /// </summary>
    public long ReusedCalls { get; internal init; }

    /// <summary>Gets the calls answered from the cache of an earlier run: <see cref="CachedCalls"/> less <see cref="ReusedCalls"/>.</summary>
    internal long EarlierRunCalls => CachedCalls - ReusedCalls;

    /// <summary>Gets the input and output tokens together.</summary>
    public long TotalTokens => InputTokens + OutputTokens;

    /// <summary>Adds two usages.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>The sum.</returns>
    public static UsageTotals operator +(UsageTotals left, UsageTotals right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.Calls + right.Calls, left.CachedCalls + right.CachedCalls, left.InputTokens + right.InputTokens, left.OutputTokens + right.OutputTokens, left.EstimatedCalls + right.EstimatedCalls)
        {
            ReusedCalls = left.ReusedCalls + right.ReusedCalls,
        };
    }

    /// <summary>Adds two usages.</summary>
    /// <param name="other">The usage to add.</param>
    /// <returns>The sum.</returns>
    public UsageTotals Add(UsageTotals other) => this + other;

    /// <summary>Computes the cost at the given prices.</summary>
    /// <param name="prices">The prices per million tokens.</param>
    /// <returns>The cost, in the prices' currency.</returns>
    public decimal Cost(TokenPrices prices)
    {
        ArgumentNullException.ThrowIfNull(prices);
        return prices.Cost(InputTokens, OutputTokens);
    }
}
