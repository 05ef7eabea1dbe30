namespace Rpm.Evaluation;

/// <summary>
/// Thrown when another process holds the answer cache file: two runs on one output folder (or one cache) would each pay
/// for calls the other is making. Wait for the other run to finish, or give this one another output folder or cache.
/// </summary>
public sealed class AnswerCacheInUseException : IOException
{
    /// <summary>Initializes a new instance of the <see cref="AnswerCacheInUseException"/> class.</summary>
    public AnswerCacheInUseException()
        : this("The answer cache is in use by another process.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AnswerCacheInUseException"/> class.</summary>
    /// <param name="message">The message.</param>
    public AnswerCacheInUseException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AnswerCacheInUseException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public AnswerCacheInUseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the cache file.</summary>
    public string? CachePath { get; private init; }

    internal static AnswerCacheInUseException For(string cachePath, IOException innerException) =>
        new($"The answer cache '{cachePath}' is in use by another process (another rpm run on the same output folder or cache). Wait for it to finish, or give this run another --out or --cache.", innerException)
        {
            CachePath = cachePath,
        };
}
