using System.Text.Json;

namespace Rpm;

/// <summary>
/// Whether a saved model was built from exactly a requested history (the same task, every item the same, in order, the
/// missing ones those the build left out): then a queued build of it has nothing to do and completes with the saved
/// version instead of paying its 2N + 1 calls again.
/// </summary>
internal static class ModelCoverage
{
    public static bool Covers(UserModel model, RpmTask task, IReadOnlyList<HistoryItem> history)
    {
        if (JsonSerializer.Serialize(model.Task, RpmJson.RpmTask) != JsonSerializer.Serialize(task, RpmJson.RpmTask))
        {
            return false;
        }

        int matched = 0;
        foreach (HistoryItem wanted in history)
        {
            if (matched < model.Paths.Count && Same(model.Paths[matched].Item, wanted))
            {
                matched++;
            }
        }

        return matched == model.Paths.Count && history.Count - matched == model.Diagnostics.ItemsExcluded;
    }

    /// <summary>
    /// The items a requested history adds to a saved model built from part of it: when the task is the same, every saved
    /// item is in the history unchanged and in order, and the saved build left no item out, a queued build is an update
    /// (<see cref="RpmPipeline.AddHistoryAsync"/>: two calls per new item) instead of a rebuild (2N + 1). Otherwise
    /// <see langword="null"/>: the history changed or dropped an item, and the model is built again from all of it.
    /// </summary>
    public static IReadOnlyList<HistoryItem>? Additions(UserModel model, RpmTask task, IReadOnlyList<HistoryItem> history)
    {
        if (model.Diagnostics.ItemsExcluded > 0 || JsonSerializer.Serialize(model.Task, RpmJson.RpmTask) != JsonSerializer.Serialize(task, RpmJson.RpmTask))
        {
            return null;
        }

        var added = new List<HistoryItem>();
        int matched = 0;
        foreach (HistoryItem wanted in history)
        {
            if (matched < model.Paths.Count && Same(model.Paths[matched].Item, wanted))
            {
                matched++;
            }
            else if (model.Paths.Any(p => p.Item.Id == wanted.Id))
            {
                return null;  // a saved item changed or moved: its path no longer explains the answer given
            }
            else
            {
                added.Add(wanted);
            }
        }

        return matched == model.Paths.Count && added.Count > 0 ? added : null;
    }

    private static bool Same(HistoryItem stored, HistoryItem wanted) =>
        stored.Id == wanted.Id && stored.Input == wanted.Input && stored.Output == wanted.Output && stored.Timestamp == wanted.Timestamp
        && (stored.Options ?? []).SequenceEqual(wanted.Options ?? [], StringComparer.Ordinal);
}
