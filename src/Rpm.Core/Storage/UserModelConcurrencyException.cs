namespace Rpm;

/// <summary>Thrown when a user model was changed by someone else between reading it and saving it.</summary>
public sealed class UserModelConcurrencyException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="UserModelConcurrencyException"/> class.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="expectedVersion">The version the writer expected.</param>
    /// <param name="actualVersion">The version found in the store (0 when none).</param>
    public UserModelConcurrencyException(string userId, long expectedVersion, long actualVersion)
        : base($"The user model of '{userId}' was changed by another writer: expected version {expectedVersion}, found {actualVersion}. Reload the model, apply the change again and save.")
    {
        UserId = userId;
        ExpectedVersion = expectedVersion;
        ActualVersion = actualVersion;
    }

    /// <summary>Gets the user.</summary>
    public string UserId { get; }

    /// <summary>Gets the version the writer expected.</summary>
    public long ExpectedVersion { get; }

    /// <summary>Gets the version found in the store.</summary>
    public long ActualVersion { get; }
}
