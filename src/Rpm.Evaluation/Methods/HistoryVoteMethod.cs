using System.Collections.Concurrent;

namespace Rpm.Evaluation;

/// <summary>
/// The model-free baseline over raw history: the K history items whose input embedding is most similar to the query's
/// content (<see cref="EvaluationQuery.Content"/>) vote with their similarity (ratings: their weighted mean shrunk
/// toward the user's mean), by <see cref="ModelFreePredictor"/>. Needs no chat model, so it runs everywhere.
/// </summary>
/// <remarks>
/// Its parameters (K; for ratings the shrinkage toward the user's mean) are not tuned on the users it reports: when
/// the <see cref="EvaluationRunner"/> runs it, they are chosen by k-fold cross-validation over people (default 5 folds,
/// a seeded shuffle of the people dealt round-robin): for each fold, the grid point with the best MAE (ratings) or
/// accuracy on the other folds' queries answers this fold's users. The grid is K in {1, 2, 3, 5, 10, 20} and, for
/// ratings, shrinkage in {0, 0.5, 1, 2, 4, 8}. With fewer than two people, or when called outside a runner, it uses
/// K = the run's K and shrinkage 1. The chosen parameters and each fold's score (beside the user-prior reference on the
/// same queries) are in <see cref="MethodResult.Tuning"/>.
/// </remarks>
internal sealed class HistoryVoteMethod : IEvaluationMethod, IDatasetPreparedMethod
{
    private readonly ConcurrentDictionary<string, Prepared> _prepared = new(StringComparer.Ordinal);

    /// <summary>Initializes a new instance of the <see cref="HistoryVoteMethod"/> class.</summary>
    /// <param name="folds">The number of cross-validation folds over people; at least 2. Default 5.</param>
    /// <param name="seed">The seed of the fold assignment. Default 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="folds"/> is less than 2.</exception>
    public HistoryVoteMethod(int folds = 5, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        Folds = folds;
        Seed = seed;
    }

    /// <summary>Gets the number of cross-validation folds over people.</summary>
    public int Folds { get; }

    /// <summary>Gets the seed of the fold assignment.</summary>
    public int Seed { get; }

    /// <inheritdoc />
    public string Name => "history-vote";

    /// <inheritdoc />
    public string Description => $"No model: the K history items most similar to the query's content (embedding cosine) vote with their similarity; ratings take their weighted mean shrunk toward the user's mean. K and the shrinkage are chosen by {Folds}-fold cross-validation over people (each fold's users answered with parameters chosen on the other folds).";

    /// <inheritdoc />
    public bool RequiresChatModel => false;

    /// <inheritdoc />
    public string CacheScope => Name;

    /// <inheritdoc />
    public CrossValidation? Tuning { get; private set; }

    /// <inheritdoc />
    public string? CheckApplicable(EvaluationDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return !ModelFreePredictor.Supports(dataset.Task) ? "a generation task needs a model to answer."
            : !dataset.HistoryHasTaskAnswers ? $"the history of {dataset.Name} holds no answers of the task to vote with."
            : null;
    }

    /// <inheritdoc />
    async Task IDatasetPreparedMethod.PrepareDatasetAsync(MethodContext context, EvaluationDataset dataset, Action? userPrepared, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(dataset);
        _prepared.Clear();
        int maxK = HistoryVoteTuning.Neighbors.Max();
        var indexes = new ConcurrentDictionary<string, (DenseHistoryIndex Index, HistoryVoteTuning.Case[] Cases)>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(
            dataset.Users,
            new ParallelOptions { MaxDegreeOfParallelism = context.MaxConcurrency, CancellationToken = cancellationToken },
            async (user, ct) =>
            {
                DenseHistoryIndex index = await DenseHistoryIndex.CreateAsync(user.History, context.RequireEmbeddingGenerator(), ct).ConfigureAwait(false);
                var cases = new HistoryVoteTuning.Case[user.Queries.Count];
                for (int i = 0; i < cases.Length; i++)
                {
                    cases[i] = new HistoryVoteTuning.Case(user, user.Queries[i], await index.SearchAsync(user.Queries[i].Content, maxK, ct).ConfigureAwait(false));
                }

                indexes[user.Id] = (index, cases);
                userPrepared?.Invoke();
            }).ConfigureAwait(false);

        HistoryVoteTuning.Case[] all = [.. dataset.Users.SelectMany(u => indexes[u.Id].Cases)];
        var fallback = new HistoryVoteTuning.Point(context.RetrievalCount, 1);
        var (byPerson, report) = HistoryVoteTuning.Choose(dataset.Task, all, Folds, Seed, fallback);
        foreach (EvaluationUser user in dataset.Users)
        {
            var (index, cases) = indexes[user.Id];
            _prepared[user.Id] = new Prepared(index, byPerson.GetValueOrDefault(user.PersonId, fallback), cases.ToDictionary(c => c.Query.Id, c => c.Neighbors, StringComparer.Ordinal));
        }

        Tuning = report;
    }

    /// <inheritdoc />
    public async Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        if (_prepared.TryGetValue(user.Id, out Prepared? prepared))
        {
            return prepared;
        }

        // Outside a runner (no dataset pass): the run's K and the default shrinkage, not cross-validated.
        DenseHistoryIndex index = await DenseHistoryIndex.CreateAsync(user.History, context.RequireEmbeddingGenerator(), cancellationToken).ConfigureAwait(false);
        return new Prepared(index, new HistoryVoteTuning.Point(context.RetrievalCount, 1), null);
    }

    /// <inheritdoc />
    public async Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(query);
        Prepared prepared = state as Prepared ?? throw new InvalidOperationException("The history vote was asked to answer for a user it did not index.");
        int k = prepared.Parameters.K;
        IReadOnlyList<HistoryNeighbor> neighbors = prepared.Neighbors?.GetValueOrDefault(query.Id)
            ?? await prepared.Index.SearchAsync(query.Content, k, cancellationToken).ConfigureAwait(false);
        neighbors = [.. neighbors.Take(k)];
        var predictor = new ModelFreePredictor(options: prepared.Parameters.Options());
        ModelFreePrediction prediction = predictor.Predict(context.Task, user.History, query.ToRpmQuery(), neighbors);
        return new MethodAnswer(prediction.Answer, true)
        {
            Rationale = $"{prediction.Explanation} (Parameters: {prepared.Parameters.Describe(context.Task)}.)",
            Examples = [.. neighbors.Select(n => new ExplainedExample(n.Item.Id, n.Item.Input, n.Item.Output, Math.Round(n.Similarity, 4)))],
        };
    }

    private sealed record Prepared(DenseHistoryIndex Index, HistoryVoteTuning.Point Parameters, Dictionary<string, IReadOnlyList<HistoryNeighbor>>? Neighbors);
}
