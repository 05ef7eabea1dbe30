
namespace Rpm;

/// <summary>
/// Predicts a user's answer without a chat model, for classification, rating and multiple-choice tasks: what RPM can
/// fall back to when the model is unreachable, and a cheap baseline. With a user model it combines the factor
/// statistics (C_u) of the factors in play with the labels of the K most similar reasoning paths; with only the raw
/// history it takes a similarity-weighted vote of the K most similar items' labels, or for ratings their weighted
/// mean shrunk toward the user's mean rating.
/// </summary>
/// <remarks>
/// <para>Labels and options: score(y) = (1 - w) × (similarity-weighted share of the neighbors answering y) + w ×
/// (mean propensity of y over the factors in play, weighted by how much each is in play), where w is
/// <see cref="ModelFreePredictorOptions.FactorWeight"/> when a user model is known and 0 otherwise. Ties go to the
/// answer the user gave most often overall, then to the first candidate.</para>
/// <para>Ratings: m = (1 - w) × (weighted mean of the neighbors' ratings) + w × (weighted mean rating of the factors
/// in play); the prediction (W × m + λ × user mean) / (W + λ), with W the neighbors' summed similarity and λ
/// <see cref="ModelFreePredictorOptions.RatingShrinkage"/>, then put on the scale's grid.</para>
/// <para>Multiple choice: a neighbor's answer counts for the query option with the same text; when no option has
/// that text, for the option at the same relative position (first, middle, last...) of an ordered scale.</para>
/// The type is thread-safe.
/// </remarks>
internal sealed class ModelFreePredictor
{
    private readonly IFeatureRetriever? _retriever;

    /// <summary>Initializes a new instance of the <see cref="ModelFreePredictor"/> class.</summary>
    /// <param name="retriever">
    /// Finds a user model's most similar reasoning paths for <see cref="PredictAsync"/> (the same retriever RPM uses); may
    /// be <see langword="null"/> when only the <c>Predict</c> overloads are used.
    /// </param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults; validated here.</param>
    public ModelFreePredictor(IFeatureRetriever? retriever = null, ModelFreePredictorOptions? options = null)
    {
        Options = options ?? new ModelFreePredictorOptions();
        Options.Validate();
        _retriever = retriever;
    }

    /// <summary>Gets the options.</summary>
    public ModelFreePredictorOptions Options { get; }

    /// <summary>Determines whether the predictor can answer a task: classification, rating and multiple choice can; generation cannot.</summary>
    /// <param name="task">The task.</param>
    /// <returns><see langword="true"/> when the task's answers are labels, ratings or options.</returns>
    public static bool Supports(RpmTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.Kind != RpmTaskKind.Generation;
    }

    /// <summary>
    /// Predicts from a user model without calling a model: retrieves, through the <see cref="IFeatureRetriever"/>, the K
    /// reasoning paths whose feature text is most similar to the query's features (or, with none, to its raw input), and
    /// combines their labels with the statistics of the factors in play.
    /// </summary>
    /// <param name="userModel">The user's model, indexed (every path has an embedding).</param>
    /// <param name="query">The query.</param>
    /// <param name="queryFeatures">The query's features tagged with the user's factors, if they are known (stage 5 succeeded); otherwise <see langword="null"/>.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="NotSupportedException">The task is a generation task.</exception>
    /// <exception cref="InvalidOperationException">No retriever was given.</exception>
    /// <exception cref="ArgumentException">The model has no reasoning paths.</exception>
    public async Task<ModelFreePrediction> PredictAsync(UserModel userModel, RpmQuery query, IReadOnlyList<Feature>? queryFeatures = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userModel);
        ArgumentNullException.ThrowIfNull(query);
        CheckTask(userModel.Task);
        if (userModel.Paths.Count == 0)
        {
            throw new ArgumentException($"The user model of '{userModel.UserId}' has no reasoning paths to predict from.", nameof(userModel));
        }

        IFeatureRetriever retriever = _retriever
            ?? throw new InvalidOperationException("This ModelFreePredictor has no feature retriever; pass one to the constructor, or retrieve the examples yourself and call Predict.");
        IReadOnlyList<Feature> key = queryFeatures is { Count: > 0 } ? queryFeatures : [new Feature("Query", query.Content)];
        IReadOnlyList<RetrievedExample> examples = await retriever.RetrieveAsync(userModel, key, Options.RetrievalCount, cancellationToken).ConfigureAwait(false);
        return Predict(userModel, query, examples, queryFeatures);
    }

    /// <summary>Predicts from the raw history and neighbors found by the caller (no embedding).</summary>
    /// <param name="task">The task.</param>
    /// <param name="history">The user's whole history (for the user's overall answers and mean rating).</param>
    /// <param name="query">The query.</param>
    /// <param name="neighbors">The most similar history items, most similar first; may be empty.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="NotSupportedException">The task is a generation task.</exception>
    /// <exception cref="ArgumentException">The history is empty or an output is not valid for the task.</exception>
    public ModelFreePrediction Predict(RpmTask task, IReadOnlyList<HistoryItem> history, RpmQuery query, IReadOnlyList<HistoryNeighbor> neighbors)
    {
        CheckArguments(task, history, query);
        ArgumentNullException.ThrowIfNull(neighbors);
        return NeighborVote.Combine(Options, task, history, query, [.. neighbors.Take(Options.RetrievalCount)], factorWeights: null, statistics: null);
    }

    /// <summary>Predicts from a user model and reasoning paths retrieved by the caller (no embedding, no model call).</summary>
    /// <param name="userModel">The user's model.</param>
    /// <param name="query">The query.</param>
    /// <param name="examples">The retrieved reasoning paths, most similar first; may be empty.</param>
    /// <param name="queryFeatures">The query's features tagged with the user's factors, if known.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="NotSupportedException">The task is a generation task.</exception>
    public ModelFreePrediction Predict(UserModel userModel, RpmQuery query, IReadOnlyList<RetrievedExample> examples, IReadOnlyList<Feature>? queryFeatures = null)
    {
        ArgumentNullException.ThrowIfNull(userModel);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(examples);
        CheckTask(userModel.Task);
        HistoryItem[] history = [.. userModel.Paths.Select(p => p.Item)];
        if (history.Length == 0)
        {
            throw new ArgumentException($"The user model of '{userModel.UserId}' has no reasoning paths to predict from.", nameof(userModel));
        }

        HistoryNeighbor[] neighbors = [.. examples.Take(Options.RetrievalCount).Select(e => new HistoryNeighbor(e.Path.Item, e.Similarity, e.Path.Features))];

        // Which factors are in play: those of the query's features when known; else those the neighbors touch, by weight.
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        string source;
        if (queryFeatures is { Count: > 0 } && queryFeatures.Any(f => f.Factor is not null))
        {
            foreach (Feature feature in queryFeatures.Where(f => f.Factor is not null))
            {
                weights[feature.Factor!] = weights.GetValueOrDefault(feature.Factor!) + 1;
            }

            source = "the query's features";
        }
        else
        {
            foreach (HistoryNeighbor neighbor in neighbors)
            {
                double weight = neighbors.Sum(n => n.Weight) > 0 ? neighbor.Weight : 1;
                foreach (string factor in (neighbor.Features ?? []).Select(f => f.Factor).OfType<string>().Distinct(StringComparer.Ordinal))
                {
                    weights[factor] = weights.GetValueOrDefault(factor) + weight;
                }
            }

            source = "the retrieved examples";
        }

        var statistics = userModel.Statistics.Where(s => weights.ContainsKey(s.Factor.Name) && s.Coverage > 0).ToList();
        var inPlay = statistics.ToDictionary(s => s.Factor.Name, s => weights[s.Factor.Name], StringComparer.Ordinal);
        return NeighborVote.Combine(Options, userModel.Task, history, query, neighbors, inPlay.Count > 0 ? inPlay : null, statistics, source);
    }

    private static void CheckTask(RpmTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (!Supports(task))
        {
            throw new NotSupportedException($"The model-free predictor answers classification, rating and multiple-choice tasks; '{task.Name}' is a generation task, which needs a chat model.");
        }
    }

    private static void CheckArguments(RpmTask task, IReadOnlyList<HistoryItem> history, RpmQuery query)
    {
        CheckTask(task);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(query);
        if (history.Count == 0)
        {
            throw new ArgumentException("The history is empty: the model-free predictor needs at least one answered item.", nameof(history));
        }

        foreach (HistoryItem item in history)
        {
            ArgumentNullException.ThrowIfNull(item, nameof(history));
            if (!task.TryNormalizeAnswer(item.Output, item.Options, out _, out string? error))
            {
                throw new ArgumentException($"The output of history item '{item.Id}' is not valid for task '{task.Name}': {error}", nameof(history));
            }
        }
    }
}
