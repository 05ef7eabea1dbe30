namespace Rpm.Evaluation;

/// <summary>
/// One unit of evaluation: a user's history (a LaMP profile) and the queries asked with exactly that history.
/// In LaMP every question carries its own profile; questions of one user that share a profile form one unit.
/// </summary>
public sealed class EvaluationUser
{
    /// <summary>Initializes a new instance of the <see cref="EvaluationUser"/> class.</summary>
    /// <param name="id">An id unique in the data set (the user id, or the question id when no user id is given).</param>
    /// <param name="personId">The person behind the unit: the data's user id, or the unit id when the data gives none.</param>
    /// <param name="history">The history, in file order.</param>
    /// <param name="queries">The queries asked with this history.</param>
    public EvaluationUser(string id, string personId, IReadOnlyList<HistoryItem> history, IReadOnlyList<EvaluationQuery> queries)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(personId);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(queries);
        Id = id;
        PersonId = personId;
        History = history;
        Queries = queries;
    }

    /// <summary>Gets the unit id.</summary>
    public string Id { get; }

    /// <summary>Gets the person behind the unit.</summary>
    public string PersonId { get; }

    /// <summary>Gets the history.</summary>
    public IReadOnlyList<HistoryItem> History { get; }

    /// <summary>Gets the queries asked with this history.</summary>
    public IReadOnlyList<EvaluationQuery> Queries { get; }
}
