namespace Rpm;

/// <summary>The stages of the RPM method that call the chat model.</summary>
public enum RpmStage
{
    /// <summary>Stage 1: features of a history item.</summary>
    FeatureExtraction,

    /// <summary>Stage 2: factors over all of a user's features.</summary>
    FactorConstruction,

    /// <summary>Stage 4: the reasoning path of a history item.</summary>
    ReasoningPath,

    /// <summary>Stage 5: factor-aware features of a query (or of a history item added later).</summary>
    QueryFeatureExtraction,

    /// <summary>Stage 7: the personalized rationale and answer.</summary>
    Generation,

    /// <summary>
    /// Stage 3's model judgments for generation tasks: which of a history item's features shaped the text the user
    /// wrote (influence) and in which direction (polarity).
    /// </summary>
    InfluenceJudgment,
}
