using System.Globalization;
using Microsoft.Extensions.AI;

namespace Rpm.Evaluation;

/// <summary>
/// Fermi (Kim and Yang, "Few-shot Personalization of LLMs with Mis-aligned Responses", NAACL 2025, arXiv 2406.18678):
/// per user, the model itself improves personalized prompts over <see cref="FermiOptions.Iterations"/> iterations. Each
/// iteration it writes <see cref="FermiOptions.PromptsPerIteration"/> new prompts from the user's scoring items (past
/// inputs with the user's answers) and the memory (the best prompts so far with their scores and the answers they got
/// wrong), every new prompt is scored by answering each scoring item under it, and the memory keeps the
/// <see cref="FermiOptions.MemorySize"/> best. Per query, Retrieval-of-Prompt picks the memory prompt with the best
/// score on the K scoring items most similar to the query (embedding cosine similarity of the query's content and the
/// items' inputs), and the model answers under it.
/// </summary>
/// <remarks>
/// Calls: <see cref="FermiOptions.CallsPerUser"/> = T × (1 + P × min(S, N)) per user (one optimizer call, then P × S
/// answer calls, per iteration), 1 per query. No training and no other user's data. Deterministic given the model's
/// answers: items, ties and the memory order are fixed (memory ties keep the earlier prompt).
/// </remarks>
internal sealed class FermiMethod : IEvaluationMethod
{
    /// <summary>Initializes a new instance of the <see cref="FermiMethod"/> class.</summary>
    /// <param name="options">The knobs, or <see langword="null"/> for the defaults; validated here.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public FermiMethod(FermiOptions? options = null)
    {
        options ??= new FermiOptions();
        options.Validate();
        Options = options;
    }

    /// <summary>Gets the knobs.</summary>
    public FermiOptions Options { get; }

    /// <inheritdoc />
    public string Name => Options.ChainOfThought ? "fermi-cot" : "fermi";

    /// <inheritdoc />
    public string Description => string.Create(
        CultureInfo.InvariantCulture,
        $"Fermi: per user, the model improves personalized prompts over {Options.Iterations} iteration{(Options.Iterations == 1 ? string.Empty : "s")} ({Options.PromptsPerIteration} new each, scored on {Options.ScoringItems} history items, their mis-aligned answers shown back; best {Options.MemorySize} kept); per query, the kept prompt best on the K most similar history items{(Options.ChainOfThought ? ", reasoning step by step first" : string.Empty)}.");

    /// <inheritdoc />
    public bool RequiresChatModel => true;

    /// <inheritdoc />
    public string CacheScope => Name;

    /// <inheritdoc />
    public string? CheckApplicable(EvaluationDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return dataset.HistoryHasTaskAnswers ? null : $"the history of {dataset.Name} holds no answers of the task, and Fermi scores prompts against them.";
    }

    /// <inheritdoc />
    public async Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        IReadOnlyList<HistoryItem> items = Options.SelectScoringItems(user.History);
        if (items.Count == 0)
        {
            throw new InvalidOperationException($"Fermi needs history to score prompts on, and the history of '{user.Id}' is empty.");
        }

        IReadOnlyList<FermiCandidate> memory = [];
        for (int iteration = 1; iteration <= Options.Iterations; iteration++)
        {
            IReadOnlyList<string> prompts = await WritePromptsAsync(context, items, memory, user.Id, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<FermiCandidate> scored = await ScoreAsync(context, items, prompts, iteration, cancellationToken).ConfigureAwait(false);

            // The memory: the best L of what it held and the new prompts; a prompt written again keeps its first entry,
            // and equal scores keep the earlier prompt (OrderByDescending is stable).
            memory = [.. memory.Concat(scored).DistinctBy(c => c.Prompt, StringComparer.Ordinal).OrderByDescending(c => c.Score).Take(Options.MemorySize)];
        }

        DenseHistoryIndex index = await DenseHistoryIndex.CreateAsync(items, context.RequireEmbeddingGenerator(), cancellationToken).ConfigureAwait(false);
        return new FermiUserState(items, memory, index);
    }

    /// <inheritdoc />
    public async Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(query);
        FermiUserState fermi = state as FermiUserState ?? throw new InvalidOperationException("Fermi was asked to answer for a user it did not prepare.");
        var (chosen, nearest) = await RetrievePromptAsync(context, fermi, query, cancellationToken).ConfigureAwait(false);
        int[] indices = [.. nearest.Select(n => IndexOf(fermi.Items, n.Item))];
        MethodAnswer answer = await BaselineChat.AnswerAsync(
            context,
            FermiPrompts.Answer(context, query.Input, query.Options, chosen.Prompt, Options.ChainOfThought),
            Options.ChainOfThought,
            query,
            [.. nearest.Select(n => new ExplainedExample(n.Item.Id, n.Item.Input, n.Item.Output, Math.Round(n.Similarity, 4)))],
            cancellationToken).ConfigureAwait(false);
        string choice = string.Create(
            CultureInfo.InvariantCulture,
            $"Prompt of iteration {chosen.Iteration}, chosen for scoring {chosen.ScoreOn(indices):0.##} on the {indices.Length} most similar history items ({chosen.Score:0.##} on all {fermi.Items.Count}): {chosen.Prompt}");
        return new MethodAnswer(answer.Answer, answer.IsValid)
        {
            Rationale = answer.Rationale is null ? choice : choice + "\n" + answer.Rationale,
            Examples = answer.Examples,
            Error = answer.Error,
        };
    }

    /// <summary>
    /// Retrieval-of-Prompt: the K scoring items most similar to the query's content, and the memory prompt with the best
    /// mean score on them (ties: the better overall score, then the earlier in memory).
    /// </summary>
    internal async Task<(FermiCandidate Prompt, IReadOnlyList<HistoryNeighbor> Nearest)> RetrievePromptAsync(MethodContext context, FermiUserState state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        IReadOnlyList<HistoryNeighbor> nearest = await state.Index.SearchAsync(query.ToRpmQuery().Content, context.RetrievalCount, cancellationToken).ConfigureAwait(false);
        int[] indices = [.. nearest.Select(n => IndexOf(state.Items, n.Item))];
        FermiCandidate best = state.Memory[0];
        foreach (FermiCandidate candidate in state.Memory.Skip(1))
        {
            // The memory is ordered by overall score, so a tie on the retrieved items keeps the earlier (better overall) prompt.
            if (candidate.ScoreOn(indices) > best.ScoreOn(indices))
            {
                best = candidate;
            }
        }

        return (best, nearest);
    }

    private static int IndexOf(IReadOnlyList<HistoryItem> items, HistoryItem item)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (ReferenceEquals(items[i], item))
            {
                return i;
            }
        }

        throw new InvalidOperationException($"The history item '{item.Id}' is not one of the scoring items.");
    }

    private async Task<IReadOnlyList<string>> WritePromptsAsync(MethodContext context, IReadOnlyList<HistoryItem> items, IReadOnlyList<FermiCandidate> memory, string userId, CancellationToken cancellationToken)
    {
        int count = Options.PromptsPerIteration;
        ValidatedChatResponse<IReadOnlyList<string>> response = await context.RequireChatClient().GetValidatedResponseAsync(
            FermiPrompts.Optimize(context, items, memory, Options),
            new ValidatedOutputRequest<FermiPromptsOutput, IReadOnlyList<string>>(FermiJsonContext.Default.FermiPromptsOutput, (output, _) =>
            {
                // P is the most asked for: a model that writes fewer gives fewer candidates, not a failure (the schema
                // cannot carry the count to every server: strict modes reject minItems), and none is paid for twice.
                List<string> prompts = [.. (output.Prompts ?? []).Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => p.Trim()).Distinct(StringComparer.Ordinal)];
                return prompts.Count > 0
                    ? OutputValidation<IReadOnlyList<string>>.Valid(prompts[..Math.Min(count, prompts.Count)])
                    : OutputValidation<IReadOnlyList<string>>.Invalid($"\"prompts\" must hold up to {count} non-empty prompt{(count == 1 ? string.Empty : "s")}; it held none.");
            })
            {
                SchemaName = FermiPrompts.PromptsSchema,
                ItemId = $"Fermi prompts of user {userId}",
            },
            context.CreateOutputOptions(),
            cancellationToken).ConfigureAwait(false);
        return response.Result;
    }

    private async Task<IReadOnlyList<FermiCandidate>> ScoreAsync(MethodContext context, IReadOnlyList<HistoryItem> items, IReadOnlyList<string> prompts, int iteration, CancellationToken cancellationToken)
    {
        var answers = new string[prompts.Count, items.Count];
        var scores = new double[prompts.Count, items.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, prompts.Count * items.Count),
            new ParallelOptions { MaxDegreeOfParallelism = context.MaxConcurrency, CancellationToken = cancellationToken },
            async (n, ct) =>
            {
                int p = n / items.Count, i = n % items.Count;
                HistoryItem item = items[i];
                MethodAnswer answer;
                try
                {
                    answer = await BaselineChat.AnswerAsync(
                        context,
                        FermiPrompts.Answer(context, item.Input, item.Options, prompts[p], Options.ChainOfThought),
                        Options.ChainOfThought,
                        new EvaluationQuery(item.Id, item.Input, item.Output, item.Options),
                        [],
                        ct).ConfigureAwait(false);
                }
                catch (RpmModelOutputException ex)
                {
                    // A refused or cut-off answer is a mis-aligned one here: the prompt is scored, not the run failed.
                    answer = new MethodAnswer(string.Empty, false) { Error = ex.Message };
                }

                answers[p, i] = answer.Answer;
                scores[p, i] = FermiScoring.Score(context.Task, item, answer.Answer, answer.IsValid);
            }).ConfigureAwait(false);

        return [.. Enumerable.Range(0, prompts.Count).Select(p => new FermiCandidate(
            prompts[p],
            iteration,
            [.. Enumerable.Range(0, items.Count).Select(i => answers[p, i])],
            [.. Enumerable.Range(0, items.Count).Select(i => scores[p, i])]))];
    }
}
