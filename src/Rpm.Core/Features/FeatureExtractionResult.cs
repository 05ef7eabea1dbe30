namespace Rpm;

/// <summary>The features of one input, and what extracting them cost.</summary>
public sealed class FeatureExtractionResult
{
    /// <summary>Initializes a new instance of the <see cref="FeatureExtractionResult"/> class.</summary>
    /// <param name="features">The features.</param>
    /// <param name="usage">What the model calls cost.</param>
    public FeatureExtractionResult(IReadOnlyList<Feature> features, ModelUsage? usage = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        Features = features;
        Usage = usage ?? ModelUsage.None;
    }

    /// <summary>Gets the features.</summary>
    public IReadOnlyList<Feature> Features { get; }

    /// <summary>Gets the token usage of the model calls, if reported.</summary>
    public ModelUsage Usage { get; }

    /// <summary>Gets the repairs and degradations behind this result, summed into the model's <see cref="UserModel.Diagnostics"/>.</summary>
    public BuildDiagnostics Diagnostics { get; internal init; } = BuildDiagnostics.None;
}
