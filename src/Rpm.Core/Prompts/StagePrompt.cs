using System.Text.Json.Nodes;

namespace Rpm;

/// <summary>What every stage's prompt writer shares: one item writer for the one-item and the batched form, and id lists in repair hints.</summary>
internal static class StagePrompt
{
    /// <summary>
    /// Writes the call's items into <paramref name="data"/>: one item at the top level (the paper's one-item prompt), or
    /// several under <c>"items"</c>, each written by the same <paramref name="writeItem"/>.
    /// </summary>
    public static void AddItems<T>(JsonObject data, IReadOnlyList<T> requests, Action<JsonObject, T> writeItem, bool alwaysList = false)
    {
        if (requests.Count == 1 && !alwaysList)
        {
            writeItem(data, requests[0]);
            return;
        }

        var items = new JsonArray();
        foreach (T request in requests)
        {
            var item = new JsonObject();
            writeItem(item, request);
            items.Add(item);
        }

        data["items"] = items;
    }

    /// <summary>Lists ids for a repair hint: the first five, then how many more.</summary>
    public static string ListIds(IReadOnlyList<string> ids) =>
        string.Join(", ", ids.Take(5)) + (ids.Count > 5 ? $" and {ids.Count - 5} more" : string.Empty);
}
