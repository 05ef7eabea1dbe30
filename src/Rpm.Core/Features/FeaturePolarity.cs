namespace Rpm;

/// <summary>How an influential feature shaped a free-text answer (generation tasks only).</summary>
public enum FeaturePolarity
{
    /// <summary>The answer leans toward the feature.</summary>
    Positive,

    /// <summary>The feature shaped the answer without a clear direction.</summary>
    Neutral,

    /// <summary>The answer leans away from the feature.</summary>
    Negative,
}
