using System.Text.RegularExpressions;
using System.Globalization;
using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>A numeric answer scale: every value from <see cref="Minimum"/> to <see cref="Maximum"/> in steps of <see cref="Step"/>.</summary>
public sealed partial class RatingScale
{
    private const double Tolerance = 1e-6;

    /// <summary>Initializes a new instance of the <see cref="RatingScale"/> class.</summary>
    /// <param name="minimum">The lowest value on the scale.</param>
    /// <param name="maximum">The highest value on the scale; greater than <paramref name="minimum"/>.</param>
    /// <param name="step">The distance between two neighboring values; must divide the range.</param>
    /// <exception cref="ArgumentOutOfRangeException">The values do not describe a finite scale.</exception>
    [JsonConstructor]
    public RatingScale(double minimum, double maximum, double step)
    {
        if (!double.IsFinite(minimum))
        {
            throw new ArgumentOutOfRangeException(nameof(minimum), minimum, "The minimum of a rating scale must be a finite number.");
        }

        if (!double.IsFinite(maximum) || maximum <= minimum)
        {
            throw new ArgumentOutOfRangeException(nameof(maximum), maximum, $"The maximum of a rating scale must be a finite number greater than the minimum ({minimum.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (!double.IsFinite(step) || step <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step of a rating scale must be a positive finite number.");
        }

        double steps = (maximum - minimum) / step;
        if (Math.Abs(steps - Math.Round(steps)) > Tolerance || steps > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"The step must divide the range {minimum.ToString(CultureInfo.InvariantCulture)}..{maximum.ToString(CultureInfo.InvariantCulture)} into at most 10,000 equal steps.");
        }

        Minimum = minimum;
        Maximum = maximum;
        Step = step;
        Decimals = CountDecimals(step);
    }

    /// <summary>Gets the lowest value on the scale.</summary>
    public double Minimum { get; }

    /// <summary>Gets the highest value on the scale.</summary>
    public double Maximum { get; }

    /// <summary>Gets the distance between two neighboring values.</summary>
    public double Step { get; }

    /// <summary>Gets the number of decimals used when a value of this scale is written as text.</summary>
    [JsonIgnore]
    internal int Decimals { get; }

    /// <summary>Gets every value on the scale, lowest first.</summary>
    [JsonIgnore]
    public IReadOnlyList<double> Values
    {
        get
        {
            int count = (int)Math.Round((Maximum - Minimum) / Step) + 1;
            var values = new double[count];
            for (int i = 0; i < count; i++)
            {
                values[i] = Math.Round(Minimum + (i * Step), Decimals);
            }

            return values;
        }
    }

    /// <summary>Writes a value of the scale as canonical invariant text (e.g. <c>4.0</c> for a step of 0.5).</summary>
    /// <param name="value">The value.</param>
    /// <returns>The canonical text.</returns>
    public string Format(double value) => value.ToString("F" + Decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>Tries to read <paramref name="text"/> as a value on this scale.</summary>
    /// <param name="text">The text, e.g. <c>"4"</c>, <c>" 3.5 "</c>, <c>"4/5"</c>, <c>"4 out of 5"</c> or <c>"3.5 stars"</c>.</param>
    /// <param name="value">The value on the scale, when the method returns <see langword="true"/>.</param>
    /// <param name="error">Why the text is not a value on the scale, when the method returns <see langword="false"/>.</param>
    /// <returns><see langword="true"/> when the text is a number on the scale.</returns>
    public bool TryParse(string? text, out double value, out string? error)
    {
        value = 0;
        string trimmed = EnumCoercion.NormalizeText(text ?? string.Empty);
        Match unit = RatingTextRegex().Match(trimmed);
        if (unit.Success)
        {
            // "4/5", "4 out of 5", "3.5 stars": the number is unambiguous.
            trimmed = unit.Groups["value"].Value;
        }

        if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) || !double.IsFinite(parsed))
        {
            error = $"'{Shorten(text)}' is not a number; answer with a number from {Format(Minimum)} to {Format(Maximum)} in steps of {Step.ToString(CultureInfo.InvariantCulture)}.";
            return false;
        }

        if (parsed < Minimum - Tolerance || parsed > Maximum + Tolerance)
        {
            error = $"{parsed.ToString(CultureInfo.InvariantCulture)} is outside the scale {Format(Minimum)} to {Format(Maximum)}.";
            return false;
        }

        double steps = (parsed - Minimum) / Step;
        if (Math.Abs(steps - Math.Round(steps)) > Tolerance)
        {
            error = $"{parsed.ToString(CultureInfo.InvariantCulture)} is not on the scale: values go from {Format(Minimum)} to {Format(Maximum)} in steps of {Step.ToString(CultureInfo.InvariantCulture)}.";
            return false;
        }

        value = Math.Round(Minimum + (Math.Round(steps) * Step), Decimals);
        error = null;
        return true;
    }

    internal static string Shorten(string? text) => text is null ? "(null)" : text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 77), "...");

    private static int CountDecimals(double step)
    {
        for (int decimals = 0; decimals < 10; decimals++)
        {
            double scaled = step * Math.Pow(10, decimals);
            if (Math.Abs(scaled - Math.Round(scaled)) < Tolerance)
            {
                return decimals;
            }
        }

        return 10;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<value>[-+]?\d+(?:\.\d+)?)\s*(?:/\s*\d+(?:\.\d+)?|out\s+of\s+\d+(?:\.\d+)?|stars?|points?)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex RatingTextRegex();
}
