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

    /// <summary>Gets the user's real answer (the gold).</summary>
    public string Gold { get; }

    /// <summary>Gets the options of a multiple-choice question.</summary>
    public IReadOnlyList<string>? Options { get; }

    /// <summary>Converts the query to an <see cref="RpmQuery"/>.</summary>
    /// <returns>The query, without its gold.</returns>
    public RpmQuery ToRpmQuery() => new(Input, Id, Options);
}
