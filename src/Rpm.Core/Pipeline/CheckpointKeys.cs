using System.Security.Cryptography;
using System.Text;

namespace Rpm;

/// <summary>
/// The keys build checkpoints are stored under. A build's key covers everything that changes what a call returns (the
/// prompts' version, the task, the chat model, the options that shape prompts), so that a checkpoint is reused only for
/// the same call; an item's key covers its id, input, output and options.
/// </summary>
internal static class CheckpointKeys
{
    public static string Build(string kind, RpmTask task, string? chatModelId, RpmOptions options)
    {
        string taskText = string.Join(
            "|",
            task.Name,
            task.Kind,
            task.Description,
            string.Join(",", task.Labels),
            task.Scale is null ? string.Empty : $"{task.Scale.Minimum}:{task.Scale.Maximum}:{task.Scale.Step}");
        return kind + ":" + Hash(string.Join(
            "\n",
            RpmPrompts.Version,
            taskText,
            chatModelId ?? string.Empty,
            options.MaxFeaturesPerItem,
            options.MinFactors,
            options.MaxFactors,
            options.MaxFactorConstructionFeatures,
            options.MaxInputTokens));
    }

    public static string Features(HistoryItem item) => "features/" + Item(item);

    public static string Reasoning(HistoryItem item) => "reasoning/" + Item(item);

    public static string Judgment(HistoryItem item) => "judgment/" + Item(item);

    public static string Factors(IEnumerable<HistoryItem> items) => "factors/" + Hash(string.Join("\n", items.Select(Item)));

    private static string Item(HistoryItem item) =>
        item.Id + "/" + Hash(item.Input + "\u0001" + item.Output + "\u0001" + string.Join("\u0002", item.Options ?? []));

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 12));
}
