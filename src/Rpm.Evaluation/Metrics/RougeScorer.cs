using System.Text;

namespace Rpm.Evaluation;

/// <summary>
/// ROUGE-1 and ROUGE-L F-measure computed exactly as Google's <c>rouge_score</c> does with its default tokenizer and no
/// stemmer (what LaMP's scorer uses): lower-case, every run of characters other than <c>[a-z0-9]</c> becomes a space,
/// tokens are the non-empty pieces; ROUGE-1 counts clipped unigram overlap, ROUGE-L the longest common subsequence.
/// Per item, as <c>rouge_scorer.py</c>'s <c>_score_ngrams</c> and <c>_score_lcs</c>; the aggregate over items is the
/// caller's (<see cref="LampMetrics"/> reports their mean).
/// </summary>
internal static class RougeScorer
{
    /// <summary>
    /// Splits a text into rouge_score's tokens (<c>tokenize.py</c>): Python's <c>str.lower()</c>, then every run of
    /// characters other than <c>[a-z0-9]</c> becomes a space, and the non-empty pieces are the tokens. Python lower-cases
    /// two non-ASCII characters into ASCII letters, and so does this: U+212A (Kelvin sign) becomes <c>k</c>, and U+0130
    /// (capital I with dot) becomes <c>i</c> followed by a combining dot that ends the token. .NET's
    /// <c>ToLowerInvariant</c> would make U+0130 a plain <c>i</c> and join it to the next letters, so it is not used.
    /// </summary>
    /// <param name="text">The text; <see langword="null"/> counts as empty.</param>
    /// <returns>The tokens (lower-case <c>[a-z0-9]+</c>).</returns>
    public static IReadOnlyList<string> Tokenize(string? text)
    {
        var tokens = new List<string>();
        var token = new StringBuilder();
        foreach (char c in text ?? string.Empty)
        {
            char? lower = c switch
            {
                >= 'a' and <= 'z' or >= '0' and <= '9' => c,
                >= 'A' and <= 'Z' => (char)(c + ('a' - 'A')),
                '\u212A' => 'k',
                _ => null,
            };

            if (lower is char kept)
            {
                token.Append(kept);
                continue;
            }

            if (c == '\u0130')
            {
                token.Append('i');
            }

            Flush();
        }

        Flush();
        return tokens;

        void Flush()
        {
            if (token.Length > 0)
            {
                tokens.Add(token.ToString());
                token.Clear();
            }
        }
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

}
