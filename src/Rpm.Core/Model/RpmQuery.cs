namespace Rpm;

/// <summary>A new input for which the pipeline predicts the user's answer.</summary>
public sealed class RpmQuery
{
    /// <summary>Initializes a new instance of the <see cref="RpmQuery"/> class.</summary>
    /// <param name="input">The input the user sees.</param>
    /// <param name="id">An optional identifier, reported in errors and logs.</param>
    /// <param name="options">For a multiple-choice task, the options of this question.</param>
    /// <exception cref="ArgumentException"><paramref name="input"/> is null or blank.</exception>
    public RpmQuery(string input, string? id = null, IReadOnlyList<string>? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        Input = input;
        Id = string.IsNullOrWhiteSpace(id) ? "query" : id;
        Options = options;
    }

    /// <summary>Gets the input the user sees.</summary>
    public string Input { get; }

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
