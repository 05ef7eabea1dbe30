namespace Rpm;

/// <summary>
/// The users a batch build holds at once: filled from the caller's stream up to <see cref="OpenAIBatchOptions.MaxUsersInMemory"/>,
/// emptied as users are built or fail. Of a user who left, only the id is kept (the duplicate check, the result's list).
/// </summary>
internal sealed class BatchUserWindow
{
    private readonly IAsyncEnumerator<BatchUser> _source;
    private readonly int _capacity;
    private readonly List<BatchUser> _users = [];
    private readonly Dictionary<string, long> _order = new(StringComparer.Ordinal);
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly List<(long Order, string UserId)> _built = [];
    private long _pulled;

    public BatchUserWindow(IAsyncEnumerator<BatchUser> source, int capacity)
    {
        _source = source;
        _capacity = capacity;
    }

    /// <summary>Gets the users in the window, not yet built nor failed.</summary>
    public IReadOnlyList<BatchUser> Users => _users;

    /// <summary>Gets a value indicating whether the stream has no more users.</summary>
    public bool Exhausted { get; private set; }

    /// <summary>Gets how many users of the stream are built (by this run or an earlier one).</summary>
    public int BuiltCount => _built.Count;

    /// <summary>Reads users from the stream until the window is full or the stream ends; a user already built is counted, not held.</summary>
    /// <exception cref="ArgumentException">The stream gave a null user or a user twice.</exception>
    public async Task FillAsync(Func<BatchUser, CancellationToken, Task<bool>> alreadyBuilt, CancellationToken cancellationToken)
    {
        while (!Exhausted && _users.Count < _capacity)
        {
            if (!await _source.MoveNextAsync().ConfigureAwait(false))
            {
                Exhausted = true;
                break;
            }

            BatchUser? user = _source.Current;
            long order = _pulled++;
            if (user is null)
            {
                throw new ArgumentException($"The users contain a null entry (the stream's user number {order + 1}).", "users");
            }

            if (!_seen.Add(user.UserId))
            {
                throw new ArgumentException($"The user '{user.UserId}' is listed twice; each user is built once.", "users");
            }

            if (await alreadyBuilt(user, cancellationToken).ConfigureAwait(false))
            {
                _built.Add((order, user.UserId));
                continue;
            }

            _users.Add(user);
            _order[user.UserId] = order;
        }
    }

    /// <summary>Takes out of the window the users that match; counted as built when <paramref name="built"/>.</summary>
    public void Remove(Func<string, bool> match, bool built = true)
    {
        _users.RemoveAll(user =>
        {
            if (!match(user.UserId))
            {
                return false;
            }

            if (built)
            {
                _built.Add((_order[user.UserId], user.UserId));
            }

            _order.Remove(user.UserId);
            return true;
        });
    }

    /// <summary>Gets the built users' ids in the stream's order.</summary>
    public List<string> BuiltUserIds() => [.. _built.OrderBy(b => b.Order).Select(b => b.UserId)];
}
