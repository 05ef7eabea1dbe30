using System.Text.RegularExpressions;

namespace Rpm.Evaluation;

/// <summary>
/// ROUGE-1 and ROUGE-L F-measure computed exactly as Google's <c>rouge_score</c> does with its default tokenizer and no
/// stemmer (what LaMP's scorer uses): lower-case, every run of characters other than <c>[a-z0-9]</c> becomes a space,
/// tokens are the non-empty pieces; ROUGE-1 counts clipped unigram overlap, ROUGE-L the longest common subsequence.
/// </summary>
internal static partial class RougeScorer
{
    /// <summary>Splits a text into rouge_score's tokens.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The tokens (lower-case <c>[a-z0-9]+</c>).</returns>
    public static IReadOnlyList<string> Tokenize(string? text)
    {
        string lowered = (text ?? string.Empty).ToLowerInvariant();
        return [.. NonAlphanumericRegex().Replace(lowered, " ").Split(' ', StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>Computes the ROUGE-1 F-measure of a prediction against a reference.</summary>
    /// <param name="reference">The gold text (rouge_score's target).</param>
    /// <param name="prediction">The predicted text.</param>
    /// <returns>The F-measure in [0, 1]; 0 when either side has no tokens.</returns>
    public static double Rouge1(string? reference, string? prediction)
    {
        IReadOnlyList<string> target = Tokenize(reference);
        IReadOnlyList<string> predicted = Tokenize(prediction);
        var targetCounts = Count(target);
        var predictedCounts = Count(predicted);
        int overlap = 0;
        foreach (var (token, count) in targetCounts)
        {
            overlap += Math.Min(count, predictedCounts.GetValueOrDefault(token));
        }

        double precision = (double)overlap / Math.Max(predicted.Count, 1);
        double recall = (double)overlap / Math.Max(target.Count, 1);
        return FMeasure(precision, recall);
    }

    /// <summary>Computes the ROUGE-L F-measure (longest common subsequence) of a prediction against a reference.</summary>
    /// <param name="reference">The gold text.</param>
    /// <param name="prediction">The predicted text.</param>
    /// <returns>The F-measure in [0, 1]; 0 when either side has no tokens.</returns>
    public static double RougeL(string? reference, string? prediction)
    {
        IReadOnlyList<string> target = Tokenize(reference);
        IReadOnlyList<string> predicted = Tokenize(prediction);
        if (target.Count == 0 || predicted.Count == 0)
        {
            return 0;
        }

        int lcs = LongestCommonSubsequence(target, predicted);
        return FMeasure((double)lcs / predicted.Count, (double)lcs / target.Count);
    }

    /// <summary>The length of the longest common subsequence of two token lists.</summary>
    /// <param name="a">The first list.</param>
    /// <param name="b">The second list.</param>
    /// <returns>The length.</returns>
    public static int LongestCommonSubsequence(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var previous = new int[b.Count + 1];
        var current = new int[b.Count + 1];
        for (int i = 1; i <= a.Count; i++)
        {
            for (int j = 1; j <= b.Count; j++)
            {
                current[j] = string.Equals(a[i - 1], b[j - 1], StringComparison.Ordinal) ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Count];
    }

    private static double FMeasure(double precision, double recall) => precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;

    private static Dictionary<string, int> Count(IReadOnlyList<string> tokens)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string token in tokens)
        {
            counts[token] = counts.GetValueOrDefault(token) + 1;
        }

        return counts;
    }

    [GeneratedRegex("[^a-z0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex NonAlphanumericRegex();
}
