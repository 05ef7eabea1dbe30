using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rpm;

/// <summary>
/// Brings a JSON answer into the shape of the schema that was asked for, where the intent is unambiguous: a number where
/// a string is expected and the reverse (a rating sent as <c>3.5</c>), <c>"true"</c> for a boolean, an enum value that
/// differs only in case, surrounding space, quotes or trailing punctuation, a property name that differs only in case
/// or separators, an object sent as a JSON string, a single object where a list is expected, and an answer wrapped in
/// one extra object. Anything else is left as it is, for validation to reject and the repair turn to explain.
/// </summary>
internal static class SchemaCoercion
{
    /// <summary>Coerces <paramref name="node"/> to <paramref name="schema"/>.</summary>
    /// <param name="node">The answer's JSON.</param>
    /// <param name="schema">The JSON schema that was sent.</param>
    /// <param name="error">Set when a required property is missing, phrased for the model.</param>
    /// <returns>The coerced node (possibly the same instance).</returns>
    public static JsonNode? Coerce(JsonNode? node, JsonElement schema, out string? error)
    {
        error = null;
        node = Unwrap(node, schema);
        return Visit(node, schema, "$", ref error);
    }

    private static JsonNode? Visit(JsonNode? node, JsonElement schema, string path, ref string? error)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return node;
        }

        foreach (string alternative in new[] { "anyOf", "oneOf" })
        {
            if (schema.TryGetProperty(alternative, out JsonElement options) && options.ValueKind == JsonValueKind.Array)
            {
                // Use the first alternative the node already fits by kind; otherwise the first non-null one.
                JsonElement chosen = options.EnumerateArray().FirstOrDefault(o => Fits(node, o));
                if (chosen.ValueKind == JsonValueKind.Undefined)
                {
                    chosen = options.EnumerateArray().FirstOrDefault(o => !Allows(o, "null") || Types(o).Count > 1);
                }

                return chosen.ValueKind == JsonValueKind.Undefined ? node : Visit(node, chosen, path, ref error);
            }
        }

        HashSet<string> types = Types(schema);
        bool nullable = types.Contains("null");
        if (node is null)
        {
            return null;
        }

        if (schema.TryGetProperty("enum", out JsonElement enumValues) && enumValues.ValueKind == JsonValueKind.Array)
        {
            JsonNode? coerced = EnumCoercion.Coerce(node, enumValues, nullable);

            // Outside the enum but a number where text is expected (an option's number): text, for validation to judge.
            return coerced is JsonValue v && types.Contains("string") && v.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
                ? JsonValue.Create(v.ToJsonString())
                : coerced;
        }

        if (types.Contains("object"))
        {
            if (node is JsonValue text && text.TryGetValue(out string? s) && TryParse(s, out JsonNode? parsed) && parsed is JsonObject)
            {
                node = parsed;
            }

            if (node is JsonObject obj)
            {
                return CoerceObject(obj, schema, path, ref error);
            }

            return node;
        }

        if (types.Contains("array"))
        {
            if (node is JsonValue text && text.TryGetValue(out string? s) && TryParse(s, out JsonNode? parsed) && parsed is JsonArray)
            {
                node = parsed;
            }
            else if (node is JsonObject single)
            {
                node = new JsonArray(single.DeepClone());
            }

            if (node is JsonArray array && schema.TryGetProperty("items", out JsonElement items))
            {
                for (int i = 0; i < array.Count; i++)
                {
                    JsonNode? item = array[i];
                    JsonNode? coerced = Visit(item, items, $"{path}[{i}]", ref error);
                    if (!ReferenceEquals(item, coerced))
                    {
                        array[i] = coerced?.Parent is null ? coerced : coerced.DeepClone();
                    }
                }
            }

            return node;
        }

        if (node is not JsonValue value)
        {
            return node;
        }

        JsonValueKind kind = value.GetValueKind();
        if (types.Contains("string") && kind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
        {
            // A number where text is expected: keep the number exactly as written (3.5 stays "3.5").
            return JsonValue.Create(kind == JsonValueKind.Number ? value.ToJsonString() : kind == JsonValueKind.True ? "true" : "false");
        }

        if ((types.Contains("number") || types.Contains("integer")) && kind == JsonValueKind.String
            && double.TryParse(value.GetValue<string>().Trim().TrimEnd('.'), NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
            && double.IsFinite(number))
        {
            return JsonValue.Create(number);
        }

        if (types.Contains("boolean") && kind == JsonValueKind.String)
        {
            string b = value.GetValue<string>().Trim().TrimEnd('.').ToUpperInvariant();
            if (b is "TRUE" or "YES")
            {
                return JsonValue.Create(true);
            }

            if (b is "FALSE" or "NO")
            {
                return JsonValue.Create(false);
            }
        }

        if (nullable && kind == JsonValueKind.String && value.GetValue<string>().Trim().ToUpperInvariant() is "NULL" or "NONE" or "N/A")
        {
            return null;
        }

        return node;
    }

    private static JsonObject CoerceObject(JsonObject obj, JsonElement schema, string path, ref string? error)
    {
        if (!schema.TryGetProperty("properties", out JsonElement properties) || properties.ValueKind != JsonValueKind.Object)
        {
            return obj;
        }

        foreach (JsonProperty property in properties.EnumerateObject())
        {
            string name = property.Name;
            if (!obj.ContainsKey(name))
            {
                // The same name in another case or with other separators ("Answer", "item_id" for "itemId").
                string key = Key(name);
                string? match = obj.Select(p => p.Key).FirstOrDefault(k => Key(k) == key);
                if (match is not null)
                {
                    JsonNode? moved = obj[match];
                    obj.Remove(match);
                    obj[name] = moved;
                }
            }

            if (obj.TryGetPropertyValue(name, out JsonNode? child))
            {
                JsonNode? coerced = Visit(child, property.Value, path + "." + name, ref error);
                if (!ReferenceEquals(child, coerced))
                {
                    obj[name] = coerced?.Parent is null ? coerced : coerced.DeepClone();
                }
            }
        }

        if (error is null && schema.TryGetProperty("required", out JsonElement required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement r in required.EnumerateArray())
            {
                string name = r.GetString() ?? string.Empty;
                if (!obj.ContainsKey(name) && !Allows(properties.TryGetProperty(name, out JsonElement p) ? p : default, "null"))
                {
                    error = path == "$" ? $"The JSON object has no \"{name}\"." : $"{path[2..]} has no \"{name}\".";
                    break;
                }
            }
        }

        return obj;
    }

    // An answer wrapped in one object ({"data": {...}}, {"response": {...}}): unwrap when the schema's required
    // properties are all missing at the top and the only property holds an object that has some of them.
    private static JsonNode? Unwrap(JsonNode? node, JsonElement schema)
    {
        if (node is not JsonObject obj || obj.Count != 1 || schema.ValueKind != JsonValueKind.Object
            || !schema.TryGetProperty("required", out JsonElement required) || required.ValueKind != JsonValueKind.Array)
        {
            return node;
        }

        var names = required.EnumerateArray().Select(r => r.GetString()!).ToList();
        if (names.Count == 0 || names.Any(n => obj.Any(p => Key(p.Key) == Key(n))))
        {
            return node;
        }

        JsonNode? inner = obj.First().Value;
        if (inner is JsonObject innerObject && names.Any(n => innerObject.Any(p => Key(p.Key) == Key(n))))
        {
            obj.Remove(obj.First().Key);
            return innerObject;
        }

        return node;
    }

    private static string Key(string name) => new([.. name.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant)]);

    private static HashSet<string> Types(JsonElement schema)
    {
        var types = new HashSet<string>(StringComparer.Ordinal);
        if (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("type", out JsonElement type))
        {
            if (type.ValueKind == JsonValueKind.String)
            {
                types.Add(type.GetString()!);
            }
            else if (type.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement t in type.EnumerateArray())
                {
                    if (t.ValueKind == JsonValueKind.String)
                    {
                        types.Add(t.GetString()!);
                    }
                }
            }
        }

        return types;
    }

    private static bool Allows(JsonElement schema, string type) => Types(schema).Contains(type);

    private static bool Fits(JsonNode? node, JsonElement schema)
    {
        HashSet<string> types = Types(schema);
        return node switch
        {
            null => types.Contains("null"),
            JsonObject => types.Contains("object"),
            JsonArray => types.Contains("array"),
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => types.Contains("string"),
                JsonValueKind.Number => types.Contains("number") || types.Contains("integer"),
                JsonValueKind.True or JsonValueKind.False => types.Contains("boolean"),
                _ => false,
            },
            _ => false,
        };
    }

    private static bool TryParse(string text, out JsonNode? node)
    {
        node = null;
        string t = text.Trim();
        if (t.Length < 2 || (t[0] != '{' && t[0] != '['))
        {
            return false;
        }

        try
        {
            node = JsonNode.Parse(t, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true });
            return node is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
