namespace Rpm.Evaluation;

/// <summary>Zero-shot: the task and the query only, no history (optionally with chain-of-thought).</summary>
internal sealed class ZeroShotMethod : IEvaluationMethod
{
    /// <summary>Initializes a new instance of the <see cref="ZeroShotMethod"/> class.</summary>
    /// <param name="chainOfThought">Whether the model reasons step by step before answering.</param>
    public ZeroShotMethod(bool chainOfThought = false)
    {
        ChainOfThought = chainOfThought;
    }

    /// <summary>Gets a value indicating whether the model reasons before answering.</summary>
    public bool ChainOfThought { get; }

    /// <inheritdoc />
    public string Name => ChainOfThought ? "zero-shot-cot" : "zero-shot";

    /// <inheritdoc />
    public string Description => ChainOfThought ? "The query only, reasoning step by step first." : "The query only: no history.";

    /// <inheritdoc />
    public bool RequiresChatModel => true;

    /// <inheritdoc />
    public string CacheScope => Name;

    /// <inheritdoc />
    public string? CheckApplicable(EvaluationDataset dataset) => null;

    /// <inheritdoc />
    public Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken) => Task.FromResult<object?>(null);

    /// <inheritdoc />
    public Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(query);
        return BaselineChat.AnswerAsync(context, BaselinePrompts.Answer(context, query, ChainOfThought, examples: null, profileSummary: null), ChainOfThought, query, [], cancellationToken);
    }
}
