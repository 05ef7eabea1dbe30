using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>
/// A feature of an input that could influence the user's answer: the triple (name, context, factor)
/// of the RPM method, plus, for generation tasks, the model's judgment of its influence.
/// </summary>
public sealed class Feature
{
    /// <summary>Initializes a new instance of the <see cref="Feature"/> class.</summary>
    /// <param name="name">A short name, e.g. <c>Taste</c>.</param>
    /// <param name="context">What the feature is in this input, e.g. <c>the flavour of the product</c>.</param>
    /// <param name="factor">The user-level factor the feature belongs to; <see langword="null"/> when it fits none (unassigned).</param>
    /// <param name="influential">For generation history items: whether the model judged that the feature shaped the user's text.</param>
    /// <param name="polarity">For influential features of generation history items: the direction of the influence.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> or <paramref name="context"/> is null or blank.</exception>
    [JsonConstructor]
    public Feature(string name, string context, string? factor = null, bool? influential = null, FeaturePolarity? polarity = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(context);
        Name = name.Trim();
        Context = context.Trim();
        Factor = string.IsNullOrWhiteSpace(factor) ? null : factor.Trim();
        Influential = influential;
        Polarity = polarity;
    }

    /// <summary>Gets the short name of the feature.</summary>
    public string Name { get; }

    /// <summary>Gets what the feature is in this input.</summary>
    public string Context { get; }

    /// <summary>Gets the factor the feature belongs to; <see langword="null"/> when unassigned.</summary>
    /// <remarks>
    /// On a freshly extracted history feature this is the model's suggested factor; after factor
    /// construction it is one of the user's factors or <see langword="null"/>.
    /// </remarks>
    public string? Factor { get; }

    /// <summary>Gets whether the feature shaped the user's answer (generation history items only).</summary>
    public bool? Influential { get; }

    /// <summary>Gets the direction of the influence (influential generation features only).</summary>
    public FeaturePolarity? Polarity { get; }

    // Whether the feature belongs to none of the user's factors: the library's own counts; callers test Factor for null.
    [JsonIgnore]
    internal bool IsUnassigned => Factor is null;

    /// <summary>Returns a copy of this feature assigned to <paramref name="factor"/> (or unassigned when <see langword="null"/>).</summary>
    /// <param name="factor">The factor.</param>
    /// <returns>The copy.</returns>
    internal Feature WithFactor(string? factor) => new(Name, Context, factor, Influential, Polarity);

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Context} [{Factor ?? "unassigned"}]";
}
