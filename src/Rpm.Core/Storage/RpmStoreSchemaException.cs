namespace Rpm;

/// <summary>Thrown when a store's database has a schema version newer than this library knows: an upgraded host migrated it.</summary>
public sealed class RpmStoreSchemaException : RpmStoreException
{
    /// <summary>Initializes a new instance of the <see cref="RpmStoreSchemaException"/> class.</summary>
    /// <param name="database">The database, as a person would name it (a file path, host and database).</param>
    /// <param name="foundVersion">The schema version found in the database.</param>
    /// <param name="supportedVersion">The newest schema version this library knows.</param>
    /// <param name="package">The package to upgrade.</param>
    public RpmStoreSchemaException(string database, int foundVersion, int supportedVersion, string package)
        : base($"The RPM schema of {database} is version {foundVersion}, newer than this version of {package} knows ({supportedVersion}): a newer version of the library migrated it. Upgrade {package} on this host; older hosts must not write to a migrated database.")
    {
        FoundVersion = foundVersion;
        SupportedVersion = supportedVersion;
    }

    /// <summary>Gets the schema version found in the database.</summary>
    public int FoundVersion { get; }

    /// <summary>Gets the newest schema version this library knows.</summary>
    public int SupportedVersion { get; }
}
