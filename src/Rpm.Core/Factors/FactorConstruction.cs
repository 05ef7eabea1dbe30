namespace Rpm;

/// <summary>The result of factor construction: the user's factors, and every item's features assigned to them.</summary>
public sealed class FactorConstruction
{
    /// <summary>Initializes a new instance of the <see cref="FactorConstruction"/> class.</summary>
    /// <param name="factors">The user's factors.</param>
    /// <param name="items">The items, with each feature's <see cref="Feature.Factor"/> set to one of <paramref name="factors"/> or <see langword="null"/>.</param>
    /// <param name="usage">What the model calls cost.</param>
    public FactorConstruction(IReadOnlyList<Factor> factors, IReadOnlyList<ItemFeatures> items, ModelUsage? usage = null)
    {
        ArgumentNullException.ThrowIfNull(factors);
        ArgumentNullException.ThrowIfNull(items);
        Factors = factors;
        Items = items;
        Usage = usage ?? ModelUsage.None;
    }

    /// <summary>Gets the user's factors.</summary>
    public IReadOnlyList<Factor> Factors { get; }

    /// <summary>Gets the items with their features assigned to factors.</summary>
    public IReadOnlyList<ItemFeatures> Items { get; }

    /// <summary>Gets what the model calls cost.</summary>
    public ModelUsage Usage { get; }

    /// <summary>Gets the repairs and degradations behind this result, summed into the model's <see cref="UserModel.Diagnostics"/>.</summary>
    public BuildDiagnostics Diagnostics { get; internal init; } = BuildDiagnostics.None;
}
