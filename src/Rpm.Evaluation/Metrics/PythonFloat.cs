using System.Globalization;
using System.Text.RegularExpressions;

namespace Rpm.Evaluation;

/// <summary>Parses numbers the way Python's <c>float()</c> does, as LaMP's rating scorer calls it.</summary>
/// <remarks>
/// Accepts surrounding whitespace, a sign, digits with single underscores between them, a decimal point and an
/// exponent (<c>" 4 "</c>, <c>"4."</c>, <c>".5"</c>, <c>"1e0"</c>, <c>"4_0"</c>). One deliberate difference:
/// <c>nan</c> and <c>inf</c>, which Python accepts, are treated as unparseable here so that a metric never becomes NaN or
/// infinite (LaMP would report NaN or infinity for the whole run).
/// </remarks>
internal static partial class PythonFloat
{
    public static bool TryParse(string? text, out double value)
    {
        value = 0;
        string trimmed = (text ?? string.Empty).Trim();
        if (trimmed.Length == 0 || !NumberRegex().IsMatch(trimmed))
        {
            return false;
        }

        return double.TryParse(trimmed.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }

    [GeneratedRegex(@"^[+-]?(?:\d(?:_?\d)*\.?(?:\d(?:_?\d)*)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberRegex();
}
