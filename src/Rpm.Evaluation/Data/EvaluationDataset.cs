namespace Rpm.Evaluation;

/// <summary>An evaluation set: a task, and users with histories and queries with gold answers.</summary>
public sealed class EvaluationDataset
{
    /// <summary>Initializes a new instance of the <see cref="EvaluationDataset"/> class.</summary>
    /// <param name="name">The name shown in reports (e.g. the LaMP task name).</param>
    /// <param name="task">The task.</param>
    /// <param name="users">The units of evaluation.</param>
    /// <param name="historyHasTaskAnswers">
    /// Whether the history items' outputs are answers of the task (true for LaMP-2..7; false for LaMP-1, whose profile
    /// holds the user's papers, not citation choices). Methods that learn from answered history need it.
    /// </param>
    public EvaluationDataset(string name, RpmTask task, IReadOnlyList<EvaluationUser> users, bool historyHasTaskAnswers = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(users);
        Name = name;
        Task = task;
        Users = users;
        HistoryHasTaskAnswers = historyHasTaskAnswers;
    }

    /// <summary>Gets the name shown in reports.</summary>
    public string Name { get; }

    /// <summary>Gets the task.</summary>
    public RpmTask Task { get; }

    /// <summary>Gets the units of evaluation, in file order.</summary>
    public IReadOnlyList<EvaluationUser> Users { get; }

    /// <summary>Gets a value indicating whether history outputs are answers of the task.</summary>
    public bool HistoryHasTaskAnswers { get; }

    /// <summary>Gets the number of distinct people.</summary>
    public int PersonCount => Users.Select(u => u.PersonId).Distinct(StringComparer.Ordinal).Count();

    /// <summary>Gets the number of queries.</summary>
    public int QueryCount => Users.Sum(u => u.Queries.Count);

    /// <summary>Returns a data set with only the first <paramref name="count"/> people (in file order) and all their units.</summary>
    /// <param name="count">The number of people to keep; at least 1.</param>
    /// <returns>The smaller data set, or this one when it has no more people.</returns>
    public EvaluationDataset TakePeople(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var keep = new HashSet<string>(Users.Select(u => u.PersonId).Distinct(StringComparer.Ordinal).Take(count), StringComparer.Ordinal);
        return keep.Count == PersonCount ? this : new EvaluationDataset(Name, Task, [.. Users.Where(u => keep.Contains(u.PersonId))], HistoryHasTaskAnswers);
    }
}
