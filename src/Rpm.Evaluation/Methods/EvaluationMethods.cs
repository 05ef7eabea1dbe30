namespace Rpm.Evaluation;

/// <summary>The built-in methods by name.</summary>
public static class EvaluationMethods
{
    /// <summary>Gets the names of the built-in methods, in report order.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "zero-shot", "zero-shot-cot", "rag-bm25", "rag-bm25-cot", "rag-dense", "rag-dense-cot", "pag", "pag-cot", "rpm", "rpm-fallback", "rpm-no-examples", "rpm-pairs", "rpm-pairs-cot", "rpm-query-key", "fermi", "fermi-cot", "history-vote", "user-prior",
    ];

    /// <summary>Creates every built-in method.</summary>
    /// <returns>The methods, in report order.</returns>
    public static IReadOnlyList<IEvaluationMethod> CreateAll() => [.. Names.Select(Create)];

    /// <summary>Creates a built-in method by name.</summary>
    /// <param name="name">The name (see <see cref="Names"/>).</param>
    /// <returns>The method.</returns>
    /// <exception cref="ArgumentException">The name is not a built-in method.</exception>
    public static IEvaluationMethod Create(string name) => (name ?? string.Empty).Trim().ToLowerInvariant() switch
    {
        "zero-shot" => new ZeroShotMethod(),
        "zero-shot-cot" => new ZeroShotMethod(chainOfThought: true),
        "rag-bm25" => new RagMethod(RagRetriever.Bm25),
        "rag-bm25-cot" => new RagMethod(RagRetriever.Bm25, chainOfThought: true),
        "rag-dense" => new RagMethod(RagRetriever.Dense),
        "rag-dense-cot" => new RagMethod(RagRetriever.Dense, chainOfThought: true),
        "pag" => new PagMethod(),
        "pag-cot" => new PagMethod(chainOfThought: true),
        "rpm" => new RpmMethod(),
        "rpm-fallback" => new RpmFallbackMethod(),
        "rpm-no-examples" => new RpmAblationMethod(RpmAblation.NoExamples),
        "rpm-pairs" => new RpmAblationMethod(RpmAblation.Pairs),
        "rpm-pairs-cot" => new RpmAblationMethod(RpmAblation.PairsCot),
        "rpm-query-key" => new RpmAblationMethod(RpmAblation.QueryKey),
        "fermi" => new FermiMethod(),
        "fermi-cot" => new FermiMethod(new FermiOptions { ChainOfThought = true }),
        "history-vote" => new HistoryVoteMethod(),
        "user-prior" => new UserPriorMethod(),
        _ => throw new ArgumentException($"'{name}' is not a method; choose from {string.Join(", ", Names)}."),
    };
}
