namespace Rpm.Evaluation;

/// <summary>
/// The knobs of <see cref="FermiMethod"/> (Fermi: Kim and Yang, "Few-shot Personalization of LLMs with Mis-aligned
/// Responses", NAACL 2025, arXiv 2406.18678). The defaults are this project's choices, sized to cost about what RPM's
/// build costs on LaMP-sized histories; the paper's own settings are not reproduced here (see the README).
/// </summary>
internal sealed record FermiOptions
{
    /// <summary>Gets T, the optimization iterations per user; each writes <see cref="PromptsPerIteration"/> new prompts and scores them. Default 3; at least 1.</summary>
    public int Iterations { get; init; } = 3;

    /// <summary>Gets L, how many of the best-scoring prompts the memory keeps (Retrieval-of-Prompt chooses among them). Default 5; at least 1.</summary>
    public int MemorySize { get; init; } = 5;

    /// <summary>Gets P, the new prompts the model writes per iteration (in one call). Default 3; at least 1.</summary>
    public int PromptsPerIteration { get; init; } = 3;

    /// <summary>
    /// Gets S, the history items every prompt is scored on (the user's few-shot opinions, U_opi in the paper): the S most
    /// recent, i.e. the last S in history order (all of them when the history is shorter). Default 10; at least 1.
    /// </summary>
    public int ScoringItems { get; init; } = 10;

    /// <summary>Gets how many mis-aligned answers (the worst first) the optimizer is shown per prompt in memory. Default 5; 0 shows scores only.</summary>
    public int MisalignedShown { get; init; } = 5;

    /// <summary>Gets a value indicating whether every answer (scoring and query) reasons step by step first (<c>fermi-cot</c>).</summary>
    public bool ChainOfThought { get; init; }

    /// <summary>
    /// Gets the model calls Fermi makes to prepare one user: T × (1 + P × min(S, N)), exactly when the model writes the P
    /// prompts asked for, fewer when it writes fewer (they are used as they are, not asked for again).
    /// </summary>
    /// <param name="historyCount">N, the user's history items.</param>
    /// <returns>The calls: per iteration one optimizer call and one answer call per new prompt and scoring item.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="historyCount"/> is negative.</exception>
    public long CallsPerUser(int historyCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(historyCount);
        return historyCount == 0 ? 0 : Iterations * (1L + ((long)PromptsPerIteration * Math.Min(ScoringItems, historyCount)));
    }

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Iterations, 1, nameof(Iterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(MemorySize, 1, nameof(MemorySize));
        ArgumentOutOfRangeException.ThrowIfLessThan(PromptsPerIteration, 1, nameof(PromptsPerIteration));
        ArgumentOutOfRangeException.ThrowIfLessThan(ScoringItems, 1, nameof(ScoringItems));
        ArgumentOutOfRangeException.ThrowIfNegative(MisalignedShown, nameof(MisalignedShown));
    }

    /// <summary>The items every prompt is scored on: the last S of the history, in history order.</summary>
    internal IReadOnlyList<HistoryItem> SelectScoringItems(IReadOnlyList<HistoryItem> history) =>
        [.. history.Skip(Math.Max(0, history.Count - ScoringItems))];
}
