using System.Text.RegularExpressions;

namespace Rpm.Evaluation;

/// <summary>
/// The part of a query's input a reader wants to see: LaMP inputs repeat one instruction on every query ("What is the
/// score of the following movie ...? just answer with the number ... movie: X"), so reports show what follows the
/// first content marker ("movie:", "review:", "description:", "the following article:", ...). Display only: prompts
/// and scores always use the whole input.
/// </summary>
internal static partial class QueryContent
{
    public static string Of(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Match first = MarkerRegex().Match(input);
        if (!first.Success)
        {
            return input.Trim();
        }

        string content = input[(first.Index + first.Length)..].Trim();
        return content.Length == 0 ? input.Trim() : content;
    }

    // A marker is one of the words LaMP and MovieLens use before the content, or "the following <thing ...>:".
    [GeneratedRegex(@"(?:\b(?:movie|review|description|article|abstract|tweet|text|product|item|question|paper)|\bthe following [^:?.]{1,80})\s*:\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MarkerRegex();
}
