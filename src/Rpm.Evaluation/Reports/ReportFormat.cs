using System.Globalization;

namespace Rpm.Evaluation;

/// <summary>
/// How numbers read in every output of an evaluation (the console, <c>report.md</c>, <c>report.html</c> and
/// <c>rpm score</c>), so that the same value is written the same way everywhere. Invariant culture throughout.
/// </summary>
internal static class ReportFormat
{
    /// <summary>Formats a metric value with three decimals, e.g. <c>0.612</c>.</summary>
    /// <param name="value">The value, in the metric's unit.</param>
    /// <returns>The text.</returns>
    public static string Metric(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>Formats a metric with its interval, e.g. <c>0.612 [0.571, 0.655]</c>.</summary>
    /// <param name="interval">The interval.</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="interval"/> is <see langword="null"/>.</exception>
    public static string Interval(ConfidenceInterval interval)
    {
        ArgumentNullException.ThrowIfNull(interval);
        return $"{Metric(interval.Value)} [{Metric(interval.Lower)}, {Metric(interval.Upper)}]";
    }

    /// <summary>Formats a signed difference of a metric, e.g. <c>+0.012</c> or <c>-0.034</c>.</summary>
    /// <param name="value">The difference, in the metric's unit.</param>
    /// <returns>The text, always signed.</returns>
    public static string Difference(double value) => value.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture);

    /// <summary>Formats a paired difference with its interval, e.g. <c>+0.012 [-0.010, +0.034]</c>.</summary>
    /// <param name="difference">The difference.</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="difference"/> is <see langword="null"/>.</exception>
    public static string Difference(PairedDifference difference)
    {
        ArgumentNullException.ThrowIfNull(difference);
        return $"{Difference(difference.Difference)} [{Difference(difference.Lower)}, {Difference(difference.Upper)}]";
    }

    /// <summary>Formats a confidence level as a percentage, e.g. <c>95%</c>.</summary>
    /// <param name="level">The level, in (0, 1).</param>
    /// <returns>The text.</returns>
    public static string Level(double level) => (level * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    /// <summary>
    /// Formats US dollars with one rule for every amount: cents from $1 up (<c>$1.50</c>, <c>$12.35</c>), two significant
    /// digits below $1 with trailing zeros kept, so that small costs stay visible and read alike (<c>$0.52</c>,
    /// <c>$0.013</c>, <c>$0.0030</c>, <c>$0.000042</c>); zero is <c>$0</c>.
    /// </summary>
    /// <param name="value">The amount in US dollars.</param>
    /// <returns>The text.</returns>
    public static string Money(decimal value)
    {
        if (value == 0)
        {
            return "$0";
        }

        string sign = value < 0 ? "-" : string.Empty;
        decimal amount = Math.Abs(value);
        int decimals = amount >= 1 ? 2 : Math.Min(27, 1 - (int)Math.Floor(Math.Log10((double)amount)));
        decimal rounded = Math.Round(amount, decimals, MidpointRounding.AwayFromZero);
        if (rounded >= 1 && amount < 1)
        {
            decimals = 2; // 0.996 rounds up to a dollar
        }

        return sign + "$" + rounded.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>Formats a count or a mean count: thousands separated, one decimal below 100, e.g. <c>12,345</c> or <c>2.5</c>.</summary>
    /// <param name="value">The count.</param>
    /// <returns>The text.</returns>
    public static string Count(double value) => value.ToString(Math.Abs(value) < 100 ? "0.#" : "N0", CultureInfo.InvariantCulture);

    /// <summary>
    /// Formats the statistics of one factor as the model reads them: for labelled tasks the answers with the highest
    /// propensity (and the mean answer of a rating task); for generation tasks the influence and polarity shares
    /// (RPM, arXiv 2505.21082, §3.2). Propensities read as percentages, so that an answer (which may be a number) and its
    /// share never look alike.
    /// </summary>
    /// <param name="task">The task the statistics were built for.</param>
    /// <param name="statistics">The factor's statistics.</param>
    /// <param name="answers">How many answers to name, at least 1; the text says when more exist.</param>
    /// <returns>The text, e.g. <c>answered 4.0 in 45%, 3.5 in 30%, 5.0 in 15% (top 3 of 5); mean answer 3.90</c>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static string Statistics(RpmTask task, FactorStatistics statistics, int answers = 3)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentOutOfRangeException.ThrowIfLessThan(answers, 1);
        if (task.Kind == RpmTaskKind.Generation)
        {
            int influence = statistics.Influence ?? 0;
            return influence == 0
                ? "no feature judged to shape the user's text"
                : string.Create(
                    CultureInfo.InvariantCulture,
                    $"{influence} feature{(influence == 1 ? string.Empty : "s")} shaped the user's text: {statistics.PositiveShare ?? 0:0%} toward it, {statistics.NeutralShare ?? 0:0%} neutral, {statistics.NegativeShare ?? 0:0%} away from it");
        }

        var given = statistics.Propensity.Where(p => p.Value > 0).OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        string top = string.Join(", ", given.Take(answers).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} in {p.Value:0%}")));
        string text = given.Count == 0 ? "no answers"
            : "answered " + top + (given.Count > answers ? string.Create(CultureInfo.InvariantCulture, $" (top {answers} of {given.Count})") : string.Empty);
        return statistics.MeanRating is double mean ? string.Create(CultureInfo.InvariantCulture, $"{text}; mean answer {mean:0.00}") : text;
    }

    /// <summary>A user model's grounding share, e.g. <c>7 of 8 reasoning paths grounded (87.5%)</c>, and how many were kept ungrounded.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The text.</returns>
    public static string Grounding(UserModel model)
    {
        int paths = model.Paths.Count;
        int ungrounded = Math.Min(model.Diagnostics.UngroundedPaths, paths);
        string share = paths == 0 ? "100" : (100.0 * (paths - ungrounded) / paths).ToString("0.#", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{paths - ungrounded} of {Noun(paths, "reasoning path", "reasoning paths")} grounded ({share}%)")
            + (ungrounded == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", {ungrounded} kept ungrounded after the repair"));
    }

    /// <summary>Writes a count with its noun, singular for one: <c>1 query</c>, <c>2 queries</c>.</summary>
    /// <param name="count">The count.</param>
    /// <param name="singular">The noun for one.</param>
    /// <param name="plural">The noun for any other count.</param>
    /// <returns>The count (with thousands separators) and the noun.</returns>
    internal static string Noun(long count, string singular, string plural) =>
        string.Create(CultureInfo.InvariantCulture, $"{count:N0} {(count == 1 ? singular : plural)}");
}
