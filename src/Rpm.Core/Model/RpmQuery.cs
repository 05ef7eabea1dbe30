namespace Rpm;

/// <summary>A new input for which the pipeline predicts the user's answer.</summary>
public sealed class RpmQuery
{
    /// <summary>Initializes a new instance of the <see cref="RpmQuery"/> class.</summary>
    /// <param name="input">The input the user sees.</param>
    /// <param name="id">An optional identifier, reported in errors and logs.</param>
    /// <param name="options">For a multiple-choice task, the options of this question.</param>
    /// <param name="content">The part of <paramref name="input"/> that carries the item itself (see <see cref="Content"/>); <see langword="null"/> for the whole input.</param>
    /// <exception cref="ArgumentException"><paramref name="input"/> is null or blank, or <paramref name="content"/> is given but blank.</exception>
    public RpmQuery(string input, string? id = null, IReadOnlyList<string>? options = null, string? content = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        if (content is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(content);
        }

        Input = input;
        Id = string.IsNullOrWhiteSpace(id) ? "query" : id;
        Options = options;
        Content = content ?? input;
    }

    /// <summary>Gets the input the user sees.</summary>
    public string Input { get; }

    /// <summary>
    /// Gets the part of <see cref="Input"/> that carries the item itself, without the task's instruction around it (for
    /// LaMP-2, the movie description after <c>description:</c>), so that it reads like a history item's input. RPM
    /// extracts the query's features from it (stage 5) and, without features, retrieves with it; the full
    /// <see cref="Input"/> is still what the final prompt shows. Defaults to <see cref="Input"/>. LaMP's own retrievers
    /// key on the content in the same way (LaMP, Salemi et al. 2024: <c>extract_after_description</c>,
    /// <c>extract_after_review</c> and their siblings in the benchmark's <c>prompts/utils.py</c>).
    /// </summary>
    public string Content { get; }

    /// <summary>Gets the identifier of the query (<c>query</c> when none was given).</summary>
    public string Id { get; }

    /// <summary>Gets the options of a multiple-choice question; <see langword="null"/> otherwise.</summary>
    public IReadOnlyList<string>? Options { get; }

    /// <summary>Converts a plain input into a query.</summary>
    /// <param name="input">The input the user sees.</param>
    public static implicit operator RpmQuery(string input) => new(input);

    /// <summary>Creates a query from a plain input.</summary>
    /// <param name="input">The input the user sees.</param>
    /// <returns>The query.</returns>
    public static RpmQuery FromString(string input) => new(input);
}
