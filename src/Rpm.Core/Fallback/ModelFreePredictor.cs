using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Predicts a user's answer without a chat model, for classification, rating and multiple-choice tasks: what RPM can
/// fall back to when the model is unreachable, and a cheap baseline. With a user model it combines the factor
/// statistics (C_u) of the factors in play with the labels of the K most similar reasoning paths; with only the raw
/// history it takes a similarity-weighted vote of the K most similar items' labels, or for ratings their weighted
/// mean shrunk toward the user's mean rating.
/// </summary>
/// <remarks>
/// <para>Labels and options: score(y) = (1 - w) × (similarity-weighted share of the neighbours answering y) + w ×
/// (mean propensity of y over the factors in play, weighted by how much each is in play), where w is
/// <see cref="ModelFreePredictorOptions.FactorWeight"/> when a user model is known and 0 otherwise. Ties go to the
/// answer the user gave most often overall, then to the first candidate.</para>
/// <para>Ratings: m = (1 - w) × (weighted mean of the neighbours' ratings) + w × (weighted mean rating of the factors
/// in play); the prediction (W × m + λ × user mean) / (W + λ), with W the neighbours' summed similarity and λ
/// <see cref="ModelFreePredictorOptions.RatingShrinkage"/>, then put on the scale's grid.</para>
/// <para>Multiple choice: a neighbour's answer counts for the query option with the same text; when no option has
/// that text, for the option at the same relative position (first, middle, last...) of an ordered scale.</para>
/// The type is thread-safe.
/// </remarks>
public sealed class ModelFreePredictor
{
    private readonly ConditionalWeakTable<UserModel, VectorMatrix> _matrices = [];
    private readonly IEmbeddingGenerator<string, Embedding<float>>? _generator;
    private readonly string? _generatorModelId;

    /// <summary>Initializes a new instance of the <see cref="ModelFreePredictor"/> class.</summary>
    /// <param name="embeddingGenerator">
    /// The embedding generator used by the <c>PredictAsync</c> overloads to find similar items; the same one that
    /// indexed the user models. May be <see langword="null"/> when only the <c>Predict</c> overloads are used.
    /// </param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults; validated here.</param>
    public ModelFreePredictor(IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator = null, ModelFreePredictorOptions? options = null)
    {
        Options = options ?? new ModelFreePredictorOptions();
        Options.Validate();
        _generator = embeddingGenerator;
        _generatorModelId = embeddingGenerator?.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId;
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
    /// Predicts from the raw history: embeds every history input and the query's input, takes the K most similar
    /// items by cosine similarity and lets them vote (see the remarks of <see cref="ModelFreePredictor"/>).
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="history">The user's history; outputs valid for the task.</param>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="NotSupportedException">The task is a generation task.</exception>
    /// <exception cref="InvalidOperationException">No embedding generator was given.</exception>
    /// <exception cref="ArgumentException">The history is empty or an output is not valid for the task.</exception>
    public async Task<ModelFreePrediction> PredictAsync(RpmTask task, IReadOnlyList<HistoryItem> history, RpmQuery query, CancellationToken cancellationToken = default)
    {
        CheckArguments(task, history, query);
        IEmbeddingGenerator<string, Embedding<float>> generator = RequireGenerator();
        var texts = new List<string>(history.Count + 1) { query.Input };
        texts.AddRange(history.Select(h => h.Input));
        IReadOnlyList<ReadOnlyMemory<float>> vectors = await EmbedAsync(generator, texts, cancellationToken).ConfigureAwait(false);
        VectorMatrix matrix = VectorMatrix.Create(vectors[0].Length, [.. vectors.Skip(1)]);
        int k = Math.Min(Options.RetrievalCount, history.Count);
        int[] indices = new int[k];
        float[] scores = new float[k];
        int found = matrix.Search(vectors[0].Span, indices, scores);
        var neighbours = new HistoryNeighbour[found];
        for (int i = 0; i < found; i++)
        {
            neighbours[i] = new HistoryNeighbour(history[indices[i]], scores[i]);
        }

        return Predict(task, history, query, neighbours);
    }

    /// <summary>
    /// Predicts from a user model without calling a model: embeds the query's feature text (or, with no features,
    /// its raw input), retrieves the K reasoning paths with the most similar feature text, and combines their labels
    /// with the statistics of the factors in play.
    /// </summary>
    /// <param name="userModel">The user's model, indexed (every path has an embedding).</param>
    /// <param name="query">The query.</param>
    /// <param name="queryFeatures">The query's features tagged with the user's factors, if they are known (stage 5 succeeded); otherwise <see langword="null"/>.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="NotSupportedException">The task is a generation task.</exception>
    /// <exception cref="InvalidOperationException">No embedding generator was given, the model is not indexed, or it was indexed by another embedding model.</exception>
    public async Task<ModelFreePrediction> PredictAsync(UserModel userModel, RpmQuery query, IReadOnlyList<Feature>? queryFeatures = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userModel);
        ArgumentNullException.ThrowIfNull(query);
        CheckTask(userModel.Task);
        if (userModel.Paths.Count == 0)
        {
            throw new ArgumentException($"The user model of '{userModel.UserId}' has no reasoning paths to predict from.", nameof(userModel));
        }

        IEmbeddingGenerator<string, Embedding<float>> generator = RequireGenerator();
        if (_generatorModelId is not null && userModel.EmbeddingModelId is not null && !string.Equals(_generatorModelId, userModel.EmbeddingModelId, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"The user model of '{userModel.UserId}' was indexed with embedding model '{userModel.EmbeddingModelId}', but this predictor embeds with '{_generatorModelId}'. Use the same embedding model.");
        }

        VectorMatrix matrix = _matrices.GetValue(userModel, CreateMatrix);
        string key = queryFeatures is { Count: > 0 } ? FeatureText.Compose(queryFeatures) : query.Input;
        IReadOnlyList<ReadOnlyMemory<float>> vectors = await EmbedAsync(generator, [key], cancellationToken).ConfigureAwait(false);
        if (vectors[0].Length != matrix.Dimensions)
        {
            throw new InvalidOperationException($"The query embedding has {vectors[0].Length} dimensions but the user model of '{userModel.UserId}' was indexed with {matrix.Dimensions}.");
        }

        int k = Math.Min(Options.RetrievalCount, matrix.Count);
        int[] indices = new int[k];
        float[] scores = new float[k];
        int found = matrix.Search(vectors[0].Span, indices, scores);
        var examples = new RetrievedExample[found];
        for (int i = 0; i < found; i++)
        {
            examples[i] = new RetrievedExample(userModel.Paths[indices[i]], scores[i]);
        }

        return Predict(userModel, query, examples, queryFeatures);
    }

    /// <summary>Predicts from the raw history and neighbours found by the caller (no embedding).</summary>
    /// <param name="task">The task.</param>
    /// <param name="history">The user's whole history (for the user's overall answers and mean rating).</param>
    /// <param name="query">The query.</param>
    /// <param name="neighbours">The most similar history items, most similar first; may be empty.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="NotSupportedException">The task is a generation task.</exception>
    /// <exception cref="ArgumentException">The history is empty or an output is not valid for the task.</exception>
    public ModelFreePrediction Predict(RpmTask task, IReadOnlyList<HistoryItem> history, RpmQuery query, IReadOnlyList<HistoryNeighbour> neighbours)
    {
        CheckArguments(task, history, query);
        ArgumentNullException.ThrowIfNull(neighbours);
        return Combine(task, history, query, [.. neighbours.Take(Options.RetrievalCount)], factorWeights: null, statistics: null);
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

        HistoryNeighbour[] neighbours = [.. examples.Take(Options.RetrievalCount).Select(e => new HistoryNeighbour(e.Path.Item, e.Similarity, e.Path.Features))];

        // Which factors are in play: those of the query's features when known; else those the neighbours touch, by weight.
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
            foreach (HistoryNeighbour neighbour in neighbours)
            {
                double weight = neighbours.Sum(n => n.Weight) > 0 ? neighbour.Weight : 1;
                foreach (string factor in (neighbour.Features ?? []).Select(f => f.Factor).OfType<string>().Distinct(StringComparer.Ordinal))
                {
                    weights[factor] = weights.GetValueOrDefault(factor) + weight;
                }
            }

            source = "the retrieved examples";
        }

        var statistics = userModel.Statistics.Where(s => weights.ContainsKey(s.Factor.Name) && s.Coverage > 0).ToList();
        var inPlay = statistics.ToDictionary(s => s.Factor.Name, s => weights[s.Factor.Name], StringComparer.Ordinal);
        return Combine(userModel.Task, history, query, neighbours, inPlay.Count > 0 ? inPlay : null, statistics, source);
    }

    private ModelFreePrediction Combine(
        RpmTask task, IReadOnlyList<HistoryItem> history, RpmQuery query, IReadOnlyList<HistoryNeighbour> neighbours,
        Dictionary<string, double>? factorWeights, List<FactorStatistics>? statistics, string factorSource = "")
    {
        double alpha = factorWeights is null ? 0 : Options.FactorWeight;
        double totalWeight = neighbours.Sum(n => n.Weight);

        // With no positive similarity, every neighbour counts the same (weight 1), so K items still vote.
        double WeightOf(HistoryNeighbour n) => totalWeight > 0 ? n.Weight : 1;
        double voteMass = totalWeight > 0 ? totalWeight : neighbours.Count;

        return task.Kind == RpmTaskKind.Rating
            ? Rating(task, history, neighbours, factorWeights, statistics, alpha, voteMass, WeightOf, factorSource)
            : Labels(task, history, query, neighbours, factorWeights, statistics, alpha, voteMass, WeightOf, factorSource);
    }

    private ModelFreePrediction Rating(
        RpmTask task, IReadOnlyList<HistoryItem> history, IReadOnlyList<HistoryNeighbour> neighbours,
        Dictionary<string, double>? factorWeights, List<FactorStatistics>? statistics, double alpha, double voteMass,
        Func<HistoryNeighbour, double> weightOf, string factorSource)
    {
        RatingScale scale = task.Scale!;
        double userMean = history.Average(h => ParseRating(task, h));
        double? neighbourMean = neighbours.Count == 0 ? null : neighbours.Sum(n => weightOf(n) * ParseRating(task, n.Item)) / voteMass;

        double? factorMean = null;
        if (factorWeights is not null && statistics is not null)
        {
            double mass = 0, sum = 0;
            foreach (FactorStatistics s in statistics.Where(s => s.MeanRating is not null))
            {
                double w = factorWeights[s.Factor.Name];
                mass += w;
                sum += w * s.MeanRating!.Value;
            }

            factorMean = mass > 0 ? sum / mass : null;
        }

        double blended = (neighbourMean, factorMean) switch
        {
            (double n, double f) => ((1 - alpha) * n) + (alpha * f),
            (double n, null) => n,
            (null, double f) => f,
            _ => userMean,
        };

        // W is the evidence behind the blend: the neighbours' summed similarity (at least 1 when only factors speak).
        double evidence = neighbourMean is null ? (factorMean is null ? 0 : 1) : voteMass;
        double lambda = Options.RatingShrinkage;
        double prediction = evidence + lambda > 0 ? ((evidence * blended) + (lambda * userMean)) / (evidence + lambda) : userMean;
        double snapped = Math.Clamp(scale.Minimum + (Math.Round((prediction - scale.Minimum) / scale.Step, MidpointRounding.AwayFromZero) * scale.Step), scale.Minimum, scale.Maximum);
        string answer = scale.Format(snapped);

        var scores = new Dictionary<string, double>(StringComparer.Ordinal) { ["userMean"] = userMean, ["prediction"] = prediction };
        if (neighbourMean is double nm)
        {
            scores["neighbourMean"] = nm;
        }

        if (factorMean is double fm)
        {
            scores["factorMean"] = fm;
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"The {neighbours.Count} most similar past items ({Describe(neighbours)})");
        text.Append(neighbourMean is double m ? string.Create(CultureInfo.InvariantCulture, $" give a weighted mean of {m:0.###}") : " are none");
        if (factorMean is double f2)
        {
            text.Append(CultureInfo.InvariantCulture, $"; the factors of {factorSource} give a mean rating of {f2:0.###} (weight {alpha:0.##})");
        }

        text.Append(CultureInfo.InvariantCulture, $"; shrunk toward the user's mean {userMean:0.###} (strength {lambda:0.##}) this is {prediction:0.###}, answered {answer}.");
        return new ModelFreePrediction(answer, scores, neighbours, text.ToString());
    }

    private static ModelFreePrediction Labels(
        RpmTask task, IReadOnlyList<HistoryItem> history, RpmQuery query, IReadOnlyList<HistoryNeighbour> neighbours,
        Dictionary<string, double>? factorWeights, List<FactorStatistics>? statistics, double alpha, double voteMass,
        Func<HistoryNeighbour, double> weightOf, string factorSource)
    {
        IReadOnlyList<string> candidates = task.Kind == RpmTaskKind.MultipleChoice
            ? (query.Options is { Count: > 0 } ? query.Options : task.Labels)
            : task.Labels;
        if (candidates.Count == 0)
        {
            throw new ArgumentException($"The multiple-choice query '{query.Id}' has no options, and the task '{task.Name}' has no default options.", nameof(query));
        }

        // The user's overall answers, mapped onto the candidates: the prior that breaks ties.
        var prior = new double[candidates.Count];
        foreach (HistoryItem item in history)
        {
            int index = MapAnswer(task, item.Output, item.Options, candidates);
            if (index >= 0)
            {
                prior[index]++;
            }
        }

        var vote = new double[candidates.Count];
        foreach (HistoryNeighbour neighbour in neighbours)
        {
            int index = MapAnswer(task, neighbour.Item.Output, neighbour.Item.Options, candidates);
            if (index >= 0 && voteMass > 0)
            {
                vote[index] += weightOf(neighbour) / voteMass;
            }
        }

        var factorShare = new double[candidates.Count];
        bool haveFactors = false;
        if (factorWeights is not null && statistics is not null)
        {
            double mass = statistics.Sum(s => factorWeights[s.Factor.Name]);
            foreach (FactorStatistics s in statistics)
            {
                double w = factorWeights[s.Factor.Name] / mass;
                foreach (var (label, propensity) in s.Propensity)
                {
                    HistoryItem? source = task.Kind == RpmTaskKind.MultipleChoice ? history.FirstOrDefault(h => string.Equals(h.Output, label, StringComparison.Ordinal)) : null;
                    int index = MapAnswer(task, label, source?.Options, candidates);
                    if (index >= 0)
                    {
                        factorShare[index] += w * propensity;
                        haveFactors = true;
                    }
                }
            }
        }

        double a = haveFactors ? alpha : 0;
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        int best = -1;
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < candidates.Count; i++)
        {
            double score = ((1 - a) * vote[i]) + (a * factorShare[i]);
            scores[candidates[i]] = score;
            if (best < 0 || score > bestScore + 1e-12 || (Math.Abs(score - bestScore) <= 1e-12 && prior[i] > prior[best]))
            {
                best = i;
                bestScore = score;
            }
        }

        string answer = candidates[best];
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"The {neighbours.Count} most similar past items ({Describe(neighbours)}) were answered {string.Join(", ", neighbours.Select(n => n.Item.Output))}");
        if (a > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"; the propensities of the factors in play ({factorSource}: {string.Join(", ", factorWeights!.Keys)}) count with weight {a:0.##}");
        }

        text.Append(bestScore > 0
            ? string.Create(CultureInfo.InvariantCulture, $"; '{answer}' scores highest ({bestScore:0.###}).")
            : $"; nothing voted, so the user's most frequent answer '{answer}' is taken.");
        return new ModelFreePrediction(answer, scores, neighbours, text.ToString());
    }

    /// <summary>The candidate an answer counts for: same text, or for options the same relative position; -1 for none.</summary>
    private static int MapAnswer(RpmTask task, string answer, IReadOnlyList<string>? answerOptions, IReadOnlyList<string> candidates)
    {
        string trimmed = answer.Trim();
        for (int i = 0; i < candidates.Count; i++)
        {
            if (string.Equals(candidates[i].Trim(), trimmed, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        if (task.Kind != RpmTaskKind.MultipleChoice || candidates.Count < 2)
        {
            return -1;
        }

        IReadOnlyList<string> options = answerOptions is { Count: > 1 } ? answerOptions : task.Labels;
        int position = -1;
        for (int i = 0; i < options.Count; i++)
        {
            if (string.Equals(options[i].Trim(), trimmed, StringComparison.OrdinalIgnoreCase))
            {
                position = i;
                break;
            }
        }

        if (position < 0 || options.Count < 2)
        {
            return -1;
        }

        double relative = (double)position / (options.Count - 1);
        return (int)Math.Round(relative * (candidates.Count - 1), MidpointRounding.AwayFromZero);
    }

    private static double ParseRating(RpmTask task, HistoryItem item) =>
        task.Scale!.TryParse(item.Output, out double value, out string? error)
            ? value
            : throw new ArgumentException($"The output of history item '{item.Id}' is not a rating of task '{task.Name}': {error}");

    private static string Describe(IReadOnlyList<HistoryNeighbour> neighbours) =>
        neighbours.Count == 0 ? "none" : "similarity " + string.Join(", ", neighbours.Select(n => n.Similarity.ToString("0.00", CultureInfo.InvariantCulture)));

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

    private IEmbeddingGenerator<string, Embedding<float>> RequireGenerator() =>
        _generator ?? throw new InvalidOperationException("This ModelFreePredictor has no embedding generator; pass one to the constructor, or find the neighbours yourself and call Predict.");

    private async Task<IReadOnlyList<ReadOnlyMemory<float>>> EmbedAsync(IEmbeddingGenerator<string, Embedding<float>> generator, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var vectors = new List<ReadOnlyMemory<float>>(texts.Count);
        for (int start = 0; start < texts.Count; start += Options.EmbeddingBatchSize)
        {
            string[] batch = [.. texts.Skip(start).Take(Options.EmbeddingBatchSize)];
            GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync(batch, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (embeddings.Count != batch.Length)
            {
                throw new InvalidOperationException($"The embedding generator returned {embeddings.Count} embeddings for {batch.Length} texts.");
            }

            vectors.AddRange(embeddings.Select(e => e.Vector));
        }

        return vectors;
    }

    private static VectorMatrix CreateMatrix(UserModel model)
    {
        int dimensions = model.Paths[0].Embedding.Length;
        if (dimensions == 0 || model.Paths.Any(p => p.Embedding.Length != dimensions))
        {
            throw new InvalidOperationException($"The user model of '{model.UserId}' is not fully indexed: every reasoning path needs an embedding of the same length.");
        }

        return VectorMatrix.Create(dimensions, [.. model.Paths.Select(p => p.Embedding)]);
    }
}
