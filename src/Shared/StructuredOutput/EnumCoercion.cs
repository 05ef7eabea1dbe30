using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rpm;

/// <summary>
/// Maps an answer onto an enum of the schema when the intent is unambiguous: the same text in another case, with
/// surrounding space, quotes, emphasis or trailing punctuation, or the same number written otherwise ("4" for "4.0").
/// </summary>
internal static class EnumCoercion
{
    public static JsonNode? Coerce(JsonNode node, JsonElement values, bool nullable)
    {
        var allowed = values.EnumerateArray().ToList();
        if (allowed.Any(v => JsonNode.DeepEquals(JsonNode.Parse(v.GetRawText()), node)))
        {
            return node;
        }

        if (node is not JsonValue value)
        {
            return node;
        }

        JsonValueKind kind = value.GetValueKind();
        string text = kind == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
        string normalized = NormalizeText(text);
        if (nullable && normalized.ToUpperInvariant() is "" or "NULL" or "NONE" or "N/A")
        {
            return null;
        }

        var strings = allowed.Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList();
        var exact = strings.Where(s => string.Equals(NormalizeText(s), normalized, StringComparison.OrdinalIgnoreCase)).Distinct(StringComparer.Ordinal).ToList();
        if (exact.Count == 1)
        {
            return JsonValue.Create(exact[0]);
        }

        // A number that equals one of the enum's numbers ("4" for "4.0").
        if (double.TryParse(normalized, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
        {
            var numeric = strings.Where(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && Math.Abs(v - number) < 1e-9).ToList();
            if (numeric.Count == 1)
            {
                return JsonValue.Create(numeric[0]);
            }
        }

        return node;
    }

    public static string NormalizeText(string text)
    {
        string t = text.Trim();
        for (int guard = 0; guard < 4 && t.Length > 0; guard++)
        {
            string before = t;
            t = t.Trim().Trim('"', '\'', '`', '*', '“', '”').Trim();
            t = t.TrimEnd('.', ',', ';', ':', '!', '?').Trim();
            if (t == before)
            {
                break;
            }
        }

        return t;
    }
}
