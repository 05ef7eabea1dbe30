using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>
/// A factor with its statistics: the numeric reference points of the user model C_u.
/// Labelled tasks carry <see cref="Propensity"/>; generation tasks carry <see cref="Influence"/> and polarity shares.
/// </summary>
public sealed class FactorStatistics
{
    /// <summary>Initializes a new instance of the <see cref="FactorStatistics"/> class.</summary>
    /// <param name="factor">The factor.</param>
    /// <param name="coverage">The number of history items the factor touches (at least one feature of the item belongs to it).</param>
    /// <param name="labelCounts">For labelled tasks, per answer y: the number of touched items the user answered y.</param>
    /// <param name="propensity">For labelled tasks, per answer y: <c>labelCounts[y] / coverage</c>.</param>
    /// <param name="meanRating">For rating tasks, the mean rating over touched items.</param>
    /// <param name="influence">For generation tasks, the number of the factor's features the model judged to shape the user's text.</param>
    /// <param name="positiveShare">For generation tasks, the share of influential features with positive polarity.</param>
    /// <param name="neutralShare">For generation tasks, the share of influential features with neutral polarity.</param>
    /// <param name="negativeShare">For generation tasks, the share of influential features with negative polarity.</param>
    [JsonConstructor]
    public FactorStatistics(
        Factor factor,
        int coverage,
        IReadOnlyDictionary<string, int>? labelCounts = null,
        IReadOnlyDictionary<string, double>? propensity = null,
        double? meanRating = null,
        int? influence = null,
        double? positiveShare = null,
        double? neutralShare = null,
        double? negativeShare = null)
    {
        ArgumentNullException.ThrowIfNull(factor);
        ArgumentOutOfRangeException.ThrowIfNegative(coverage);
        Factor = factor;
        Coverage = coverage;
        LabelCounts = labelCounts ?? new Dictionary<string, int>();
        Propensity = propensity ?? new Dictionary<string, double>();
        MeanRating = meanRating;
        Influence = influence;
        PositiveShare = positiveShare;
        NeutralShare = neutralShare;
        NegativeShare = negativeShare;
    }

    /// <summary>Gets the factor.</summary>
    public Factor Factor { get; }

    /// <summary>Gets the number of history items the factor touches.</summary>
    public int Coverage { get; }

    /// <summary>Gets, per answer, how many touched items the user answered that way (labelled tasks).</summary>
    public IReadOnlyDictionary<string, int> LabelCounts { get; }

    /// <summary>Gets, per answer y, Propensity(y, F) = #{i : a_i = y and F touches q_i} / #{i : F touches q_i} (labelled tasks).</summary>
    public IReadOnlyDictionary<string, double> Propensity { get; }

    /// <summary>Gets the mean rating over the items the factor touches (rating tasks).</summary>
    public double? MeanRating { get; }

    /// <summary>Gets how many of the factor's features the model judged to shape the user's text (generation tasks).</summary>
    public int? Influence { get; }

    /// <summary>Gets the share of influential features with positive polarity (generation tasks).</summary>
    public double? PositiveShare { get; }

    /// <summary>Gets the share of influential features with neutral polarity (generation tasks).</summary>
    public double? NeutralShare { get; }

    /// <summary>Gets the share of influential features with negative polarity (generation tasks).</summary>
    public double? NegativeShare { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Factor.Name} (coverage {Coverage})";
}
