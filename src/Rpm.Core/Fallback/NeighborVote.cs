using System.Globalization;
using System.Text;

namespace Rpm;

/// <summary>The arithmetic of <see cref="ModelFreePredictor"/>: neighbors' votes (or ratings) blended with the factors' statistics.</summary>
internal static class NeighborVote
{
    public static ModelFreePrediction Combine(
        ModelFreePredictorOptions options,
        RpmTask task, IReadOnlyList<HistoryItem> history, RpmQuery query, IReadOnlyList<HistoryNeighbor> neighbors,
        Dictionary<string, double>? factorWeights, List<FactorStatistics>? statistics, string factorSource = "")
    {
        double alpha = factorWeights is null ? 0 : options.FactorWeight;
        double totalWeight = neighbors.Sum(n => n.Weight);

        // With no positive similarity, every neighbor counts the same (weight 1), so K items still vote.
        double WeightOf(HistoryNeighbor n) => totalWeight > 0 ? n.Weight : 1;
        double voteMass = totalWeight > 0 ? totalWeight : neighbors.Count;

        return task.Kind == RpmTaskKind.Rating
            ? Rating(options, task, history, neighbors, factorWeights, statistics, alpha, voteMass, WeightOf, factorSource)
            : Labels(task, history, query, neighbors, factorWeights, statistics, alpha, voteMass, WeightOf, factorSource);
    }

    private static ModelFreePrediction Rating(
        ModelFreePredictorOptions options,
        RpmTask task, IReadOnlyList<HistoryItem> history, IReadOnlyList<HistoryNeighbor> neighbors,
        Dictionary<string, double>? factorWeights, List<FactorStatistics>? statistics, double alpha, double voteMass,
        Func<HistoryNeighbor, double> weightOf, string factorSource)
    {
        RatingScale scale = task.Scale!;
        double userMean = history.Average(h => ParseRating(task, h));
        double? neighborMean = neighbors.Count == 0 ? null : neighbors.Sum(n => weightOf(n) * ParseRating(task, n.Item)) / voteMass;

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

        double blended = (neighborMean, factorMean) switch
        {
            (double n, double f) => ((1 - alpha) * n) + (alpha * f),
            (double n, null) => n,
            (null, double f) => f,
            _ => userMean,
        };

        // W is the evidence behind the blend: the neighbors' summed similarity (at least 1 when only factors speak).
        double evidence = neighborMean is null ? (factorMean is null ? 0 : 1) : voteMass;
        double lambda = options.RatingShrinkage;
        double prediction = evidence + lambda > 0 ? ((evidence * blended) + (lambda * userMean)) / (evidence + lambda) : userMean;
        double snapped = Math.Clamp(scale.Minimum + (Math.Round((prediction - scale.Minimum) / scale.Step, MidpointRounding.AwayFromZero) * scale.Step), scale.Minimum, scale.Maximum);
        string answer = scale.Format(snapped);

        var scores = new Dictionary<string, double>(StringComparer.Ordinal) { ["userMean"] = userMean, ["prediction"] = prediction };
        if (neighborMean is double nm)
        {
            scores["neighborMean"] = nm;
        }

        if (factorMean is double fm)
        {
            scores["factorMean"] = fm;
        }

        var text = new StringBuilder();
        text.Append(neighbors.Count == 1
            ? $"The most similar past item ({Describe(neighbors)})"
            : string.Create(CultureInfo.InvariantCulture, $"The {neighbors.Count} most similar past items ({Describe(neighbors)})"));
        text.Append(neighborMean is double m ? string.Create(CultureInfo.InvariantCulture, $" give{(neighbors.Count == 1 ? "s" : string.Empty)} a weighted mean of {m:0.###}") : " are none");
        if (factorMean is double f2)
        {
            text.Append(CultureInfo.InvariantCulture, $"; the factors of {factorSource} give a mean rating of {f2:0.###} (weight {alpha:0.##})");
        }

        text.Append(lambda > 0
            ? string.Create(CultureInfo.InvariantCulture, $"; shrunk toward the user's mean {userMean:0.###} (strength {lambda:0.##}) this is {prediction:0.###}, answered {answer}.")
            : string.Create(CultureInfo.InvariantCulture, $"; not shrunk toward the user's mean (strength 0): {prediction:0.###}, answered {answer}."));
        return new ModelFreePrediction(answer, scores, neighbors, text.ToString());
    }

    private static ModelFreePrediction Labels(
        RpmTask task, IReadOnlyList<HistoryItem> history, RpmQuery query, IReadOnlyList<HistoryNeighbor> neighbors,
        Dictionary<string, double>? factorWeights, List<FactorStatistics>? statistics, double alpha, double voteMass,
        Func<HistoryNeighbor, double> weightOf, string factorSource)
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
        foreach (HistoryNeighbor neighbor in neighbors)
        {
            int index = MapAnswer(task, neighbor.Item.Output, neighbor.Item.Options, candidates);
            if (index >= 0 && voteMass > 0)
            {
                vote[index] += weightOf(neighbor) / voteMass;
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
        text.Append(CultureInfo.InvariantCulture, $"The {neighbors.Count} most similar past items ({Describe(neighbors)}) were answered {string.Join(", ", neighbors.Select(n => n.Item.Output))}");
        if (a > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"; the propensities of the factors in play ({factorSource}: {string.Join(", ", factorWeights!.Keys)}) count with weight {a:0.##}");
        }

        text.Append(bestScore > 0
            ? string.Create(CultureInfo.InvariantCulture, $"; '{answer}' scores highest ({bestScore:0.###}).")
            : $"; nothing voted, so the user's most frequent answer '{answer}' is taken.");
        return new ModelFreePrediction(answer, scores, neighbors, text.ToString());
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

    private static string Describe(IReadOnlyList<HistoryNeighbor> neighbors) =>
        neighbors.Count == 0 ? "none" : "similarity " + string.Join(", ", neighbors.Select(n => n.Similarity.ToString("0.00", CultureInfo.InvariantCulture)));

}
