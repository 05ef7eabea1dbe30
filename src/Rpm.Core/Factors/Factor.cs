using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>A user-level factor: a group of related features that drives the user's answers (e.g. "Narrative darkness").</summary>
public sealed class Factor
{
    /// <summary>Initializes a new instance of the <see cref="Factor"/> class.</summary>
    /// <param name="name">The factor's name, unique within a user model.</param>
    /// <param name="description">What the factor covers.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or blank.</exception>
    [JsonConstructor]
    public Factor(string name, string? description)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name.Trim();
        Description = description?.Trim() ?? string.Empty;
    }

    /// <summary>Gets the factor's name.</summary>
    public string Name { get; }

    /// <summary>Gets what the factor covers.</summary>
    public string Description { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}
