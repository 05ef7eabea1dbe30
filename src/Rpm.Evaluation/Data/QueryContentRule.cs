namespace Rpm.Evaluation;

/// <summary>
/// Where the content sits inside a query's input: the item itself (a movie description, a review, an abstract, a
/// tweet) without the task's instruction around it. LaMP's retrievers key on the content only (LaMP, Salemi et al.
/// 2024, <c>LaMP/prompts/prompts.py</c> and <c>rank_profiles.py</c>: <c>extract_after_description</c>,
/// <c>extract_after_review</c>, <c>extract_after_article</c>, <c>extract_after_paper</c>, <c>extract_after_colon</c>,
/// and for LaMP-1 the candidate titles between quotes); the evaluation keys RAG, the history vote and RPM's query
/// features on it the same way, while prompts show the whole input.
/// </summary>
public sealed class QueryContentRule
{
    private readonly string? _marker;
    private readonly bool _quotedCandidates;

    private QueryContentRule(string? marker, bool quotedCandidates, string description)
    {
        _marker = marker;
        _quotedCandidates = quotedCandidates;
        Description = description;
    }

    /// <summary>Gets the rule that keeps the whole input (trimmed): for inputs that are the content already.</summary>
    public static QueryContentRule WholeInput { get; } = new(null, false, "the whole input");

    /// <summary>
    /// Gets LaMP-1's rule: the second and third strings between double quotes (the two candidate references' titles,
    /// after the author's paper title), joined by a space, as LaMP's <c>classification_citation_query_corpus_maker</c>
    /// forms its query. Inputs with fewer than three quoted strings keep the whole input.
    /// </summary>
    public static QueryContentRule QuotedCandidates { get; } = new(null, true, "the two quoted candidate titles ([1] and [2])");

    /// <summary>Gets the marker after which the content starts, or <see langword="null"/> for the other rules.</summary>
    public string? Marker => _marker;

    /// <summary>Gets what the rule takes, in words, for reports and the README.</summary>
    public string Description { get; }

    /// <summary>
    /// Creates the rule that takes the text after the first occurrence of <paramref name="marker"/> (ordinal and
    /// case-sensitive, as Python's <c>str.find</c> in LaMP's <c>extract_after_*</c>), trimmed. A marker of <c>:</c> is
    /// LaMP's <c>extract_after_colon</c>.
    /// </summary>
    /// <param name="marker">The marker, e.g. <c>description:</c>; not blank.</param>
    /// <returns>The rule.</returns>
    /// <exception cref="ArgumentException">The marker is null or blank.</exception>
    public static QueryContentRule After(string marker)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(marker);
        return new QueryContentRule(marker, false, $"the text after the first \"{marker}\"");
    }

    /// <summary>
    /// Extracts the content of an input. When the marker is absent (or the quoted titles are missing), or nothing
    /// follows it, the whole input (trimmed) is the content, so a query is never keyed on an empty text; LaMP's own
    /// helpers return <c>None</c> there instead and fail.
    /// </summary>
    /// <param name="input">The query's input.</param>
    /// <returns>The content: not blank when the input is not blank.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    public string Extract(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        string content = string.Empty;
        if (_marker is not null)
        {
            int at = input.IndexOf(_marker, StringComparison.Ordinal);
            content = at < 0 ? string.Empty : input[(at + _marker.Length)..].Trim();
        }
        else if (_quotedCandidates)
        {
            List<string> quoted = Quoted(input);
            content = quoted.Count >= 3 ? $"{quoted[1]} {quoted[2]}".Trim() : string.Empty;
        }

        return content.Length > 0 ? content : input.Trim();
    }

    /// <inheritdoc />
    public override string ToString() => Description;

    // LaMP's extract_strings_between_quotes: every text between a pair of double quotes, left to right.
    private static List<string> Quoted(string input)
    {
        var result = new List<string>();
        int open = -1;
        for (int i = 0; i < input.Length; i++)
        {
            if (input[i] != '"')
            {
                continue;
            }

            if (open < 0)
            {
                open = i;
            }
            else
            {
                result.Add(input[(open + 1)..i]);
                open = -1;
            }
        }

        return result;
    }
}
