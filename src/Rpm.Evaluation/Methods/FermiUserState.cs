namespace Rpm.Evaluation;

/// <summary>What Fermi keeps per user: the scoring items, the memory of the best prompts (best first) and an index of the items for Retrieval-of-Prompt.</summary>
/// <param name="Items">The scoring items (the user's few-shot opinions), in history order.</param>
/// <param name="Memory">The best prompts found, best first; at most <see cref="FermiOptions.MemorySize"/>.</param>
/// <param name="Index">The scoring items' inputs, embedded for Retrieval-of-Prompt.</param>
internal sealed record FermiUserState(IReadOnlyList<HistoryItem> Items, IReadOnlyList<FermiCandidate> Memory, DenseHistoryIndex Index);
