using System.Globalization;
using Rpm.Evaluation;

namespace Rpm.Cli;

/// <summary>
/// The prices rpm knows without being told: OpenAI's standard-tier list prices of text tokens, per million, for a few
/// models served at OpenAI's own endpoint. Source: https://platform.openai.com/docs/pricing, as reported in June 2026
/// (the figures are those OpenAI published at each model's launch: GPT-4o mini 2024-07-18, GPT-4o 2024-08-06,
/// GPT-4.1 2025-04-14). Anything else (a local server, Azure OpenAI, another provider, a model not listed, a dated
/// snapshot with other prices such as gpt-4o-2024-05-13) has no known price: its cost is unknown unless
/// <c>--price-in</c> and <c>--price-out</c> are given.
/// </summary>
internal static class PriceTable
{
    /// <summary>When and where the table's prices were read.</summary>
    public const string Source = "standard tier, platform.openai.com/docs/pricing, as of June 2026";

    private static readonly Dictionary<string, TokenPrices> OpenAI = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt-4o-mini"] = TokenPrices.Gpt4oMini,
        ["gpt-4o-mini-2024-07-18"] = TokenPrices.Gpt4oMini,
        ["gpt-4o"] = new(2.50m, 10.00m),
        ["gpt-4o-2024-08-06"] = new(2.50m, 10.00m),
        ["gpt-4o-2024-11-20"] = new(2.50m, 10.00m),
        ["gpt-4.1"] = new(2.00m, 8.00m),
        ["gpt-4.1-2025-04-14"] = new(2.00m, 8.00m),
        ["gpt-4.1-mini"] = new(0.40m, 1.60m),
        ["gpt-4.1-mini-2025-04-14"] = new(0.40m, 1.60m),
        ["gpt-4.1-nano"] = new(0.10m, 0.40m),
        ["gpt-4.1-nano-2025-04-14"] = new(0.10m, 0.40m),
    };

    /// <summary>The list price of a model at an endpoint, when the table has it.</summary>
    /// <param name="endpoint">The chat endpoint.</param>
    /// <param name="model">The model's name.</param>
    /// <returns>The prices, or <see langword="null"/>: only OpenAI's own endpoint is priced from the table.</returns>
    public static TokenPrices? Find(Uri? endpoint, string model) =>
        endpoint is not null && string.Equals(endpoint.Host, EndpointSettings.OpenAIEndpoint.Host, StringComparison.OrdinalIgnoreCase)
        && OpenAI.TryGetValue(model, out TokenPrices? prices) ? prices : null;

    /// <summary>Resolves the prices of a run: both options given, else the table, else unknown.</summary>
    /// <param name="input">--price-in, per million input tokens.</param>
    /// <param name="output">--price-out, per million output tokens.</param>
    /// <param name="endpoint">The chat endpoint.</param>
    /// <param name="model">The model's name.</param>
    /// <returns>The prices (null when unknown) and a sentence that says where they come from, or why there are none.</returns>
    /// <exception cref="ArgumentException">Only one of the two prices is given.</exception>
    public static RunPrices Resolve(decimal? input, decimal? output, Uri? endpoint, string model)
    {
        if (input is decimal i && output is decimal o)
        {
            return new RunPrices(new TokenPrices(i, o), string.Create(CultureInfo.InvariantCulture, $"{CliSupport.Money(i)} / {CliSupport.Money(o)} per million input / output tokens, as given (--price-in / --price-out)"));
        }

        if (input is not null || output is not null)
        {
            throw new ArgumentException("--price-in and --price-out go together: give both, per million tokens (0 and 0 for a model you run yourself).");
        }

        return Find(endpoint, model) is TokenPrices known
            ? new RunPrices(known, string.Create(CultureInfo.InvariantCulture, $"{CliSupport.Money(known.InputPerMillion)} / {CliSupport.Money(known.OutputPerMillion)} per million input / output tokens: OpenAI's list price for {model} ({Source}); other prices with --price-in and --price-out"))
            : new RunPrices(null, $"no prices for model {model} at endpoint {(endpoint is null ? "(none)" : endpoint.ToString().TrimEnd('/'))}; pass --price-in and --price-out, per million tokens, 0 and 0 for a model you run yourself");
    }
}

/// <summary>A run's prices, or none, with where they come from or why they are unknown.</summary>
/// <param name="Prices">The prices; <see langword="null"/> when unknown.</param>
/// <param name="Explanation">Where they come from, or why there are none.</param>
internal sealed record RunPrices(TokenPrices? Prices, string Explanation)
{
    /// <summary>Gets the line printed for the run: the prices and their source, or "cost: unknown (why)".</summary>
    public string Line => Prices is null ? $"cost: unknown ({Explanation})" : $"Prices: {Explanation}";

    /// <summary>An amount at these prices, or "cost: unknown".</summary>
    /// <param name="usage">The calls and tokens.</param>
    /// <returns>The text.</returns>
    public string Cost(UsageTotals usage) => Prices is null ? "cost: unknown" : CliSupport.Money(usage.Cost(Prices));
}
