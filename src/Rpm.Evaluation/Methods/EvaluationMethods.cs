namespace Rpm.Evaluation;

/// <summary>The built-in methods by name.</summary>
public static class EvaluationMethods
{
    /// <summary>Gets the names of the built-in methods, in report order.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "zero-shot", "zero-shot-cot", "rag-bm25", "rag-bm25-cot", "rag-dense", "rag-dense-cot", "pag", "pag-cot", "rpm", "rpm-fallback", "rpm-no-examples", "rpm-pairs", "rpm-pairs-cot", "rpm-query-key", "fermi", "fermi-cot", "history-vote", "user-prior",
    ];

    /// <summary>
    /// Gets the methods run when none are named: the paper's main comparison (every baseline with and without
    /// chain-of-thought, RPM, and the model-free references). The paper's ablation arms (<c>rpm-no-examples</c>,
    /// <c>rpm-pairs</c>, <c>rpm-pairs-cot</c>, <c>rpm-query-key</c>) and Fermi (<c>fermi</c>, <c>fermi-cot</c>, up to
    /// T × (1 + P × S) calls per user) are asked for by name.
    /// </summary>
    public static IReadOnlyList<string> DefaultNames { get; } =
    [
        "zero-shot", "zero-shot-cot", "rag-bm25", "rag-bm25-cot", "rag-dense", "rag-dense-cot", "pag", "pag-cot", "rpm", "rpm-fallback", "history-vote", "user-prior",
    ];

    /// <summary>Creates the methods of <see cref="DefaultNames"/>.</summary>
    /// <returns>The methods, in report order.</returns>
    public static IReadOnlyList<IEvaluationMethod> CreateDefault() => [.. DefaultNames.Select(Create)];

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
