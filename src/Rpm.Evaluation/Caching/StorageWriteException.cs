using Microsoft.Data.Sqlite;

namespace Rpm.Evaluation;

/// <summary>
/// Thrown when a file the evaluation keeps cannot be written: a full disk or quota, a read-only or failing disk, no
/// permission. It names the file and says how many answers this run saved before the failure (a re-run does not pay for
/// them again) and how many arrived but could not be saved (a re-run asks for them again). A run stops at the first one,
/// so as not to keep paying for answers it cannot keep.
/// </summary>
public sealed class StorageWriteException : IOException
{
    /// <summary>Initializes a new instance of the <see cref="StorageWriteException"/> class for a file, with the run's counts.</summary>
    internal StorageWriteException(string path, string message, long saved, long lost, Exception innerException)
        : base(message, innerException)
    {
        Path = path;
        SavedAnswers = saved;
        LostAnswers = lost;
        IsDiskFull = IsFull(innerException);
    }

    /// <summary>Gets the file that could not be written.</summary>
    public string? Path { get; private init; }

    /// <summary>Gets how many answers this run saved in the file before it stopped (none of them is paid for again).</summary>
    public long SavedAnswers { get; private init; }

    /// <summary>Gets how many answers arrived but could not be saved (a re-run asks for them, and pays, again).</summary>
    public long LostAnswers { get; private init; }

    /// <summary>Gets a value indicating whether the disk (or the user's quota) is full, rather than read-only or failing.</summary>
    internal bool IsDiskFull { get; private init; }

    /// <summary>Returns the same failure with the final counts of the run that stopped on it.</summary>
    /// <param name="saved">Answers saved in the run.</param>
    /// <param name="lost">Answers that arrived and could not be saved.</param>
    /// <returns>The exception to throw.</returns>
    internal StorageWriteException WithCounts(long saved, long lost) =>
        new(Path!, Message, saved, lost, InnerException!);

    /// <summary>The storage failure in an exception or its causes (a stage failure wraps the call's), if any.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns>The failure, or <see langword="null"/>.</returns>
    internal static StorageWriteException? Find(Exception? exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is StorageWriteException found)
            {
                return found;
            }

            if (e is AggregateException aggregate)
            {
                return aggregate.InnerExceptions.Select(Find).FirstOrDefault(f => f is not null);
            }
        }

        return null;
    }

    /// <summary>Whether SQLite failed because of the disk or the file's permissions, not the file's content.</summary>
    /// <param name="exception">SQLite's exception.</param>
    /// <returns><see langword="true"/> for SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN and SQLITE_PERM.</returns>
    internal static bool IsStorageFailure(SqliteException exception) => exception.SqliteErrorCode is 3 or 8 or 10 or 13 or 14;

    /// <summary>Whether an I/O exception (or one of its causes) says the disk or quota is full, on every platform .NET runs on.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns>
    /// <see langword="true"/> for SQLITE_FULL, and for an <see cref="IOException"/> whose HResult is ENOSPC (28 on Linux
    /// and macOS: .NET puts the errno there), EDQUOT (122 on Linux, 69 on macOS), or Windows' ERROR_DISK_FULL /
    /// ERROR_HANDLE_DISK_FULL (0x80070070, 0x80070027).
    /// </returns>
    internal static bool IsDiskFullError(Exception exception) => IsFull(exception);

    private static bool IsFull(Exception? exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is SqliteException { SqliteErrorCode: 13 })
            {
                return true;
            }

            if (e is IOException && (e.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027) || (e.HResult == 69 && OperatingSystem.IsMacOS())))
            {
                return true;
            }
        }

        return false;
    }
}
