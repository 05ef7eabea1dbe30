namespace Rpm.Evaluation;

/// <summary>
/// How Fermi scores one answer against the user's, from 0 to 1 (1 is aligned): for labels and options, 1 when the
/// answer is the user's; for ratings, 1 minus the distance as a share of the scale's range, an invalid answer counting
/// as the end of the scale farther from the user's (as LaMP scores MAE); for text, ROUGE-L F-measure.
/// </summary>
internal static class FermiScoring
{
    public static double Score(RpmTask task, HistoryItem item, string answer, bool isValid)
    {
        switch (task.Kind)
        {
            case RpmTaskKind.Rating:
                RatingScale scale = task.Scale!;
                if (!scale.TryParse(item.Output, out double gold, out _))
                {
                    return 0;
                }

                double range = scale.Maximum - scale.Minimum;
                double distance = isValid && scale.TryParse(answer, out double value, out _)
                    ? Math.Abs(value - gold)
                    : Math.Max(gold - scale.Minimum, scale.Maximum - gold);
                return range <= 0 ? (distance == 0 ? 1 : 0) : Math.Clamp(1 - (distance / range), 0, 1);
            case RpmTaskKind.Generation:
                return RougeScorer.RougeL(item.Output, answer);
            default:
                string expected = task.TryNormalizeAnswer(item.Output, item.Options, out string normalized, out _) ? normalized : item.Output.Trim();
                return isValid && string.Equals(answer, expected, StringComparison.Ordinal) ? 1 : 0;
        }
    }
}
