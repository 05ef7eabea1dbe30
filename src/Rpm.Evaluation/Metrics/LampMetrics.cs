namespace Rpm.Evaluation;

/// <summary>
/// Scores predictions exactly as LaMP's evaluation does, for every kind of task: accuracy and macro-F1 over the
/// task's whole label set, MAE and RMSE with LaMP's rule for an unparseable answer, and ROUGE-1 / ROUGE-L F-measure.
/// </summary>
/// <remarks>
/// ROUGE per item is Google's <c>rouge_score</c> F-measure, exactly (default tokenizer, no stemmer). The aggregate differs
/// in one documented way: LaMP's <c>eval/evaluation.py</c> calls Hugging Face <c>evaluate</c>'s rouge, which reports the
/// median of <c>rouge_score</c>'s <c>BootstrapAggregator</c> (1,000 unseeded resamples of the mean), so it moves from
/// run to run; this reports the plain mean of the per-item F-measures, which that median estimates, and the reports put a
/// seeded bootstrap confidence interval (<see cref="MetricBootstrap"/>) beside it.
/// </remarks>
public static class LampMetrics
{
    /// <summary>The accuracy metric's name.</summary>
    public const string Accuracy = "accuracy";

    /// <summary>The macro-F1 metric's name.</summary>
    public const string F1 = "f1";

    /// <summary>The mean absolute error metric's name.</summary>
    public const string Mae = "mae";

    /// <summary>The root mean squared error metric's name.</summary>
    public const string Rmse = "rmse";

    /// <summary>The ROUGE-1 F-measure metric's name: the mean over queries of the per-item F-measure, in [0, 1].</summary>
    public const string Rouge1 = "rouge-1";

    /// <summary>The ROUGE-L F-measure metric's name: the mean over queries of the per-item F-measure, in [0, 1].</summary>
    public const string RougeL = "rouge-L";

    /// <summary>Gets the metrics reported for a kind of task, in report order.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The metric names.</returns>
    public static IReadOnlyList<string> For(RpmTaskKind kind) => kind switch
    {
        RpmTaskKind.Classification => [Accuracy, F1],
        RpmTaskKind.Rating => [Mae, Rmse],
        RpmTaskKind.Generation => [Rouge1, RougeL],
        _ => [Accuracy],
    };

    /// <summary>Computes the accuracy: the share of answers that, stripped, equal the stripped gold and are in the label set.</summary>
    /// <param name="golds">The golds.</param>
    /// <param name="predictions">The predictions, in the same order.</param>
    /// <param name="labels">The task's label set.</param>
    /// <returns>The accuracy in [0, 1].</returns>
    public static double ComputeAccuracy(IReadOnlyList<string> golds, IReadOnlyList<string> predictions, IReadOnlyList<string> labels)
    {
        int[] gold = Map(golds, labels, nameof(golds));
        int[] predicted = MapPredictions(predictions, labels, golds.Count);
        return gold.Length == 0 ? 0 : (double)gold.Where((g, i) => g == predicted[i]).Count() / gold.Length;
    }

    /// <summary>
    /// Computes the macro-F1 over every label of the set, as scikit-learn's <c>f1_score(labels=..., average="macro")</c>:
    /// F1 = 2TP / (2TP + FP + FN) per label, 0 when a label is neither predicted nor gold; an answer outside the set is
    /// a false negative for its gold label and a false positive for no label.
    /// </summary>
    /// <param name="golds">The golds.</param>
    /// <param name="predictions">The predictions.</param>
    /// <param name="labels">The task's label set.</param>
    /// <returns>The macro-F1 in [0, 1].</returns>
    public static double ComputeMacroF1(IReadOnlyList<string> golds, IReadOnlyList<string> predictions, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0)
        {
            throw new ArgumentException("Macro-F1 needs the task's label set.", nameof(labels));
        }

        int[] gold = Map(golds, labels, nameof(golds));
        int[] predicted = MapPredictions(predictions, labels, golds.Count);
        double sum = 0;
        for (int label = 0; label < labels.Count; label++)
        {
            int tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < gold.Length; i++)
            {
                bool isGold = gold[i] == label, isPredicted = predicted[i] == label;
                tp += isGold && isPredicted ? 1 : 0;
                fp += !isGold && isPredicted ? 1 : 0;
                fn += isGold && !isPredicted ? 1 : 0;
            }

            int denominator = (2 * tp) + fp + fn;
            sum += denominator == 0 ? 0 : 2.0 * tp / denominator;
        }

        return sum / labels.Count;
    }

    /// <summary>
    /// Reads a rating answer as LaMP does: Python's <c>float()</c> of the answer, or, when it is not a number, whichever
    /// end of the scale is farther from the gold (the maximum when both are equally far).
    /// </summary>
    /// <param name="prediction">The answer.</param>
    /// <param name="gold">The gold, a number.</param>
    /// <param name="minimum">The low end of the scale (1 in LaMP-3).</param>
    /// <param name="maximum">The high end of the scale (5 in LaMP-3).</param>
    /// <returns>The value scored.</returns>
    public static double RatingValue(string? prediction, double gold, double minimum, double maximum) =>
        PythonFloat.TryParse(prediction, out double value) ? value
        : Math.Abs(minimum - gold) > Math.Abs(maximum - gold) ? minimum : maximum;

    /// <summary>Computes MAE and RMSE with LaMP's rule for unparseable answers (<see cref="RatingValue"/>).</summary>
    /// <param name="golds">The golds (numbers).</param>
    /// <param name="predictions">The predictions.</param>
    /// <param name="scale">The task's scale.</param>
    /// <returns>The mean absolute error and the root mean squared error.</returns>
    public static (double Mae, double Rmse) ComputeMaeRmse(IReadOnlyList<string> golds, IReadOnlyList<string> predictions, RatingScale scale)
    {
        ArgumentNullException.ThrowIfNull(golds);
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(scale);
        CheckLengths(golds, predictions);
        if (golds.Count == 0)
        {
            return (0, 0);
        }

        double absolute = 0, squared = 0;
        for (int i = 0; i < golds.Count; i++)
        {
            if (!PythonFloat.TryParse(golds[i], out double gold))
            {
                throw new ArgumentException($"The gold at position {i} ('{golds[i]}') is not a number.", nameof(golds));
            }

            double error = RatingValue(predictions[i], gold, scale.Minimum, scale.Maximum) - gold;
            absolute += Math.Abs(error);
            squared += error * error;
        }

        return (absolute / golds.Count, Math.Sqrt(squared / golds.Count));
    }

    /// <summary>Scores predictions against golds for a task.</summary>
    /// <param name="task">The task.</param>
    /// <param name="golds">The golds.</param>
    /// <param name="predictions">The predictions, in the same order.</param>
    /// <param name="options">For a multiple-choice task, each question's options (in the order of <paramref name="golds"/>); <see langword="null"/> to use the task's default options.</param>
    /// <returns>
    /// The metrics of the task's kind (<see cref="For"/>), and the count of invalid answers: answers valid for no option
    /// of their question (outside the label set, not a number on the scale, not one of the question's options, or blank).
    /// </returns>
    public static MetricSet Score(RpmTask task, IReadOnlyList<string> golds, IReadOnlyList<string> predictions, IReadOnlyList<IReadOnlyList<string>?>? options = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(golds);
        ArgumentNullException.ThrowIfNull(predictions);
        CheckLengths(golds, predictions);
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        int invalid;
        switch (task.Kind)
        {
            case RpmTaskKind.Classification:
                values[Accuracy] = ComputeAccuracy(golds, predictions, task.Labels);
                values[F1] = ComputeMacroF1(golds, predictions, task.Labels);
                invalid = predictions.Count(p => !task.Labels.Contains((p ?? string.Empty).Trim(), StringComparer.Ordinal));
                break;
            case RpmTaskKind.Rating:
                var (mae, rmse) = ComputeMaeRmse(golds, predictions, task.Scale!);
                values[Mae] = mae;
                values[Rmse] = rmse;
                invalid = predictions.Count(p => !PythonFloat.TryParse(p, out _) || !task.Scale!.TryParse(p, out _, out _));
                break;
            case RpmTaskKind.Generation:
                values[Rouge1] = golds.Count == 0 ? 0 : golds.Select((g, i) => RougeScorer.Rouge1(g.Trim(), (predictions[i] ?? string.Empty).Trim())).Average();
                values[RougeL] = golds.Count == 0 ? 0 : golds.Select((g, i) => RougeScorer.RougeL(g.Trim(), (predictions[i] ?? string.Empty).Trim())).Average();
                invalid = predictions.Count(p => string.IsNullOrWhiteSpace(p));
                break;
            default:
                values[Accuracy] = golds.Count == 0 ? 0 : (double)golds.Where((g, i) => string.Equals(g.Trim(), (predictions[i] ?? string.Empty).Trim(), StringComparison.Ordinal)).Count() / golds.Count;
                invalid = predictions.Where((p, i) => !IsOption(p, options is not null && i < options.Count ? options[i] : null, task.Labels)).Count();
                break;
        }

        return new MetricSet { Task = task.Name, Kind = task.Kind, Count = golds.Count, InvalidAnswers = invalid, Values = values };
    }

    // A multiple-choice answer is valid when it is one of its question's options exactly (after trimming), as scored.
    internal static bool IsOption(string? prediction, IReadOnlyList<string>? options, IReadOnlyList<string> defaults)
    {
        string answer = (prediction ?? string.Empty).Trim();
        IReadOnlyList<string> choices = options is { Count: > 0 } ? options : defaults;
        return answer.Length > 0 && (choices.Count == 0 || choices.Any(c => string.Equals(c.Trim(), answer, StringComparison.Ordinal)));
    }

    /// <summary>Scores a predictions file's answers against a golds file's, matched by id as LaMP's evaluator does.</summary>
    /// <param name="task">The task.</param>
    /// <param name="golds">The golds.</param>
    /// <param name="predictions">The predictions; every gold id needs one (extra ids are ignored).</param>
    /// <param name="optionsById">For a multiple-choice task, each question's options by id; <see langword="null"/> to use the task's default options.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="ArgumentException">A gold id has no prediction (up to five are named).</exception>
    public static MetricSet Score(RpmTask task, LampOutputs golds, LampOutputs predictions, IReadOnlyDictionary<string, IReadOnlyList<string>>? optionsById = null)
    {
        ArgumentNullException.ThrowIfNull(golds);
        ArgumentNullException.ThrowIfNull(predictions);
        Dictionary<string, string> byId = predictions.ToDictionary();
        string[] missing = [.. golds.Items.Where(g => !byId.ContainsKey(g.Key)).Select(g => g.Key)];
        if (missing.Length > 0)
        {
            throw new ArgumentException($"{missing.Length} gold id(s) have no prediction, e.g. {string.Join(", ", missing.Take(5).Select(m => $"'{m}'"))}; LaMP scores every gold id.", nameof(predictions));
        }

        return Score(task, [.. golds.Items.Select(g => g.Value)], [.. golds.Items.Select(g => byId[g.Key])], optionsById is null ? null : [.. golds.Items.Select(g => optionsById.GetValueOrDefault(g.Key))]);
    }

    internal static int[] Map(IReadOnlyList<string> values, IReadOnlyList<string> labels, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(labels);
        var result = new int[values.Count];
        for (int i = 0; i < values.Count; i++)
        {
            result[i] = IndexOf(labels, values[i]);
            if (result[i] < 0)
            {
                throw new ArgumentException($"The gold at position {i} ('{values[i]}') is not one of the task's labels.", parameterName);
            }
        }

        return result;
    }

    private static int[] MapPredictions(IReadOnlyList<string> predictions, IReadOnlyList<string> labels, int count)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        if (predictions.Count != count)
        {
            throw new ArgumentException($"There are {predictions.Count} predictions for {count} golds.", nameof(predictions));
        }

        return [.. predictions.Select(p => IndexOf(labels, p))];
    }

    // LaMP strips, then looks the answer up in the label list exactly (case-sensitive); -1 when absent.
    internal static int IndexOf(IReadOnlyList<string> labels, string? value)
    {
        string stripped = (value ?? string.Empty).Trim();
        for (int i = 0; i < labels.Count; i++)
        {
            if (string.Equals(labels[i], stripped, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static void CheckLengths(IReadOnlyList<string> golds, IReadOnlyList<string> predictions)
    {
        if (golds.Count != predictions.Count)
        {
            throw new ArgumentException($"There are {predictions.Count} predictions for {golds.Count} golds.", nameof(predictions));
        }
    }
}
