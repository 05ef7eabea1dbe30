using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// The schema of each call: Microsoft.Extensions.AI's schema of the answer type (<see cref="ChatResponseFormat.ForJsonSchema{T}(JsonSerializerOptions?, string?, string?)"/>,
/// made once per type), copied and refined with what is known of this call (enums, removed properties).
/// </summary>
internal static class OutputSchemas
{
    private static readonly Dictionary<Type, ChatResponseFormatJson> BaseFormats = [];
    private static readonly Lock Gate = new();

    public static (ChatResponseFormatJson Format, JsonElement Schema) For<T, TResult>(IOutputContract<T, TResult> request)
        where T : class
    {
        ChatResponseFormatJson baseFormat;
        lock (Gate)
        {
            if (!BaseFormats.TryGetValue(typeof(T), out baseFormat!))
            {
                baseFormat = ChatResponseFormat.ForJsonSchema<T>(request.ReplyType.Options);
                BaseFormats[typeof(T)] = baseFormat;
            }
        }

        string name = request.SchemaName ?? "rpm_" + typeof(T).Name.Replace("Output", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        if (!request.EditsSchema && request.Enums is not { Count: > 0 })
        {
            return (ChatResponseFormat.ForJsonSchema(baseFormat.Schema!.Value, name, baseFormat.SchemaDescription), baseFormat.Schema!.Value);
        }

        JsonObject copy = JsonNode.Parse(baseFormat.Schema!.Value.GetRawText())!.AsObject();
        foreach (var (path, values) in request.Enums ?? new Dictionary<string, IReadOnlyList<string?>>())
        {
            SchemaEdits.SetEnum(copy, [.. values.Distinct()], SchemaEdits.ParsePath(path));
        }

        if (request.EditsSchema)
        {
            request.EditSchema(copy);
        }

        JsonElement refined = JsonDocument.Parse(copy.ToJsonString()).RootElement.Clone();
        return (ChatResponseFormat.ForJsonSchema(refined, name, baseFormat.SchemaDescription), refined);
    }
}
