using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Rpm.Tests.StructuredOutput;

/// <summary>Reads a stage contract the way the engine does, without a model: its prompt's data, its edited schema, and a reply validated.</summary>
internal static class Contracts
{
    public static readonly OutputValidationContext FirstAttempt = new(1, 2);

    public static readonly OutputValidationContext LastAttempt = new(2, 2);

    /// <summary>The prompt's data document (the JSON between the user message's data markers).</summary>
    public static JsonObject Data<TReply, TResult>(StageContract<TReply, TResult> contract)
        where TReply : class
    {
        IReadOnlyList<ChatMessage> prompt = contract.WritePrompt();
        Assert.Equal([ChatRole.System, ChatRole.User], prompt.Select(m => m.Role));
        string text = prompt[1].Text;
        Assert.StartsWith("<data>\n", text, StringComparison.Ordinal);
        return JsonNode.Parse(text["<data>\n".Length..^"\n</data>".Length])!.AsObject();
    }

    public static string Instructions<TReply, TResult>(StageContract<TReply, TResult> contract)
        where TReply : class => contract.WritePrompt()[0].Text;

    /// <summary>The schema this call sends: the reply type's, with the contract's edits.</summary>
    public static JsonObject Schema<TReply, TResult>(StageContract<TReply, TResult> contract)
        where TReply : class
    {
        var (_, schema) = OutputSchemas.For(contract);
        return JsonNode.Parse(schema.GetRawText())!.AsObject();
    }

    /// <summary>The allowed values at a path of properties (<c>items</c>, <c>[]</c> for an array's items), joined by commas, <c>null</c> for JSON null.</summary>
    public static string Enum(JsonObject schema, params string[] path)
    {
        JsonNode node = schema;
        foreach (string step in path)
        {
            node = step == "[]" ? node["items"]! : node["properties"]![step]!;
        }

        return string.Join(",", node["enum"]!.AsArray().Select(v => v?.GetValue<string>() ?? "null"));
    }

    public static OutputValidation<TResult> Validate<TReply, TResult>(StageContract<TReply, TResult> contract, string json, OutputValidationContext? context = null)
        where TReply : class =>
        contract.Validate(JsonSerializer.Deserialize(json, contract.ReplyType)!, context ?? FirstAttempt);
}
