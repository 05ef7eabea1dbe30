namespace Rpm.Evaluation;

/// <summary>Prices per million input and output tokens. The default is GPT-4o-mini's list price, the paper's backbone ($0.15 / $0.60).</summary>
/// <param name="InputPerMillion">The price of a million input tokens.</param>
/// <param name="OutputPerMillion">The price of a million output tokens.</param>
public sealed record TokenPrices(decimal InputPerMillion, decimal OutputPerMillion)
{
    /// <summary>Gets GPT-4o-mini's list prices: $0.15 per million input tokens, $0.60 per million output tokens.</summary>
    public static TokenPrices Gpt4oMini { get; } = new(0.15m, 0.60m);

    /// <summary>Gets prices of zero (a local model).</summary>
    public static TokenPrices Free { get; } = new(0, 0);

    /// <summary>Computes the cost of a number of tokens.</summary>
    /// <param name="inputTokens">Input tokens.</param>
    /// <param name="outputTokens">Output tokens.</param>
    /// <returns>The cost.</returns>
    public decimal Cost(long inputTokens, long outputTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(outputTokens);
        return ((inputTokens * InputPerMillion) + (outputTokens * OutputPerMillion)) / 1_000_000m;
    }
}
