namespace Rpm;

/// <summary>
/// Thrown by a persistent store when its database cannot be used: the file cannot be opened, the server cannot be
/// reached, or the schema is newer than this library. The message says what was tried and what to check.
/// </summary>
public class RpmStoreException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="RpmStoreException"/> class.</summary>
    /// <param name="message">The message.</param>
    public RpmStoreException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RpmStoreException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public RpmStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
