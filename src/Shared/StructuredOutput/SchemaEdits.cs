using System.Text.Json.Nodes;

namespace Rpm;

/// <summary>Edits of a JSON schema for one call: where the answer space is known, say so.</summary>
internal static class SchemaEdits
{
    // OpenAI's strict mode accepts up to 1,000 enum values, and a single enum of more than 250 strings only within a
    // length budget; past 250 the list is left to validation.
    public const int MaxEnumValues = 250;

    /// <summary>Turns a property path (<c>items[].features[].factor</c>) into the steps of <see cref="At"/>.</summary>
    public static string[] ParsePath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var steps = new List<string>();
        foreach (string segment in path.Split('.', StringSplitOptions.TrimEntries))
        {
            string name = segment;
            int arrays = 0;
            while (name.EndsWith("[]", StringComparison.Ordinal))
            {
                name = name[..^2];
                arrays++;
            }

            if (name.Length > 0)
            {
                steps.Add(name);
            }

            steps.AddRange(Enumerable.Repeat("[]", arrays));
        }

        return [.. steps];
    }

    /// <summary>Gets the schema of a property, following <c>properties</c> by name and <c>items</c> for <c>[]</c>.</summary>
    public static JsonObject? At(JsonObject schema, params string[] path)
    {
        JsonObject? node = schema;
        foreach (string step in path)
        {
            node = step == "[]" ? node?["items"] as JsonObject : node?["properties"]?[step] as JsonObject;
        }

        return node;
    }

    /// <summary>Restricts a property to <paramref name="values"/> (a <see langword="null"/> value allows JSON null), when the list is short enough.</summary>
    public static void SetEnum(JsonObject schema, IReadOnlyCollection<string?> values, params string[] path)
    {
        if (values.Count == 0 || values.Count > MaxEnumValues || At(schema, path) is not JsonObject property)
        {
            return;
        }

        property.Remove("anyOf");
        property["type"] = values.Contains(null) ? new JsonArray("string", "null") : "string";
        property["enum"] = new JsonArray([.. values.Select(v => (JsonNode?)(v is null ? null : JsonValue.Create(v)))]);
    }

    /// <summary>Sets a property's type (e.g. a boolean that must not be null).</summary>
    public static void SetType(JsonObject schema, JsonNode type, params string[] path)
    {
        if (At(schema, path) is JsonObject property)
        {
            property.Remove("anyOf");
            property["type"] = type;
        }
    }

    /// <summary>Removes a property from an object's schema (and from its required list).</summary>
    public static void Remove(JsonObject schema, string name, params string[] pathToObject)
    {
        if (At(schema, pathToObject) is JsonObject obj)
        {
            (obj["properties"] as JsonObject)?.Remove(name);
            if (obj["required"] is JsonArray required)
            {
                foreach (JsonNode? r in required.Where(r => r?.GetValue<string>() == name).ToList())
                {
                    required.Remove(r);
                }
            }
        }
    }
}
