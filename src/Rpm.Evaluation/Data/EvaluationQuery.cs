namespace Rpm.Evaluation;

/// <summary>One query of an evaluation set: the input the user saw, the options (multiple choice), and the user's real answer.</summary>
public sealed class EvaluationQuery
{
    /// <summary>Initializes a new instance of the <see cref="EvaluationQuery"/> class.</summary>
    /// <param name="id">The query id, as in the gold file.</param>
    /// <param name="input">The input, read unchanged from the data.</param>
    /// <param name="gold">The user's real answer.</param>
    /// <param name="options">For a multiple-choice task, this question's options; otherwise <see langword="null"/>.</param>
    public EvaluationQuery(string id, string input, string gold, IReadOnlyList<string>? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        ArgumentNullException.ThrowIfNull(gold);
        Id = id;
        Input = input;
        Gold = gold;
        Options = options;
    }

    /// <summary>Gets the query id.</summary>
    public string Id { get; }

    /// <summary>Gets the input.</summary>
    public string Input { get; }

    /// <summary>
    /// Gets the content of the input: the item itself without the task's instruction (for LaMP-2, the movie description
    /// after <c>description:</c>), as the data's <see cref="QueryContentRule"/> extracts it. Retrieval (RAG, the history
    /// vote) and RPM's query features key on it, as LaMP's retrievers do; prompts show the whole <see cref="Input"/>.
    /// Defaults to <see cref="Input"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The value is null or blank.</exception>
    public string Content
    {
        get => field ?? Input;
        init
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value, nameof(Content));
            field = value;
        }
    }

    /// <summary>Gets the user's real answer (the gold).</summary>
    public string Gold { get; }

    /// <summary>Gets the options of a multiple-choice question.</summary>
    public IReadOnlyList<string>? Options { get; }

    /// <summary>Converts the query to an <see cref="RpmQuery"/>, its <see cref="RpmQuery.Content"/> set to <see cref="Content"/>.</summary>
    /// <returns>The query, without its gold.</returns>
    public RpmQuery ToRpmQuery() => new(Input, Id, Options, Content);
}
