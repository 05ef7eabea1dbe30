namespace Rpm.Evaluation;

/// <summary>
/// What the <see cref="CostEstimator"/> assumes about answers it cannot see before they are written: output lengths,
/// and for RPM (whose prompts grow with the model's own answers) features per item and factors per user. Defaults
/// are round figures for a GPT-4o-mini-class model; measure a few users with <c>rpm eval</c> and adjust.
/// </summary>
internal sealed record EstimateAssumptions
{
    /// <summary>Gets the output tokens of a plain answer (<c>{"answer": ...}</c>). Default 12; generation tasks add the gold's mean length.</summary>
    public int AnswerTokens { get; init; } = 12;

    /// <summary>Gets the output tokens of chain-of-thought reasoning. Default 150.</summary>
    public int ReasoningTokens { get; init; } = 150;

    /// <summary>Gets the output tokens of PAG's profile summary. Default 250.</summary>
    public int SummaryTokens { get; init; } = 250;

    /// <summary>Gets the features RPM extracts per item. Default 5.</summary>
    public int FeaturesPerItem { get; init; } = 5;

    /// <summary>Gets the tokens of one feature as JSON (name, context, factor). Default 25.</summary>
    public int TokensPerFeature { get; init; } = 25;

    /// <summary>Gets the share of a user's features with a new name (the rest repeat). Default 0.6.</summary>
    public double DistinctFeatureShare { get; init; } = 0.6;

    /// <summary>Gets the factors per user. Default 8.</summary>
    public int FactorsPerUser { get; init; } = 8;

    /// <summary>Gets the tokens of one factor's statistics in a prompt. Default 45.</summary>
    public int TokensPerFactorStatistics { get; init; } = 45;

    /// <summary>Gets the output tokens of one reasoning path. Default 120.</summary>
    public int ReasoningPathTokens { get; init; } = 120;

    /// <summary>Gets the output tokens of RPM's rationale. Default 150.</summary>
    public int RationaleTokens { get; init; } = 150;

    /// <summary>Gets the instruction tokens of an RPM prompt (its system message). Default 260.</summary>
    public int RpmInstructionTokens { get; init; } = 260;

    /// <summary>Gets the tokens of one personalized prompt Fermi's optimizer writes. Default 150 (the prompt asks for at most 150 words).</summary>
    public int FermiPromptTokens { get; init; } = 150;
}
