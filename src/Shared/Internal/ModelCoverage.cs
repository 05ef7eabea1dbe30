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

    private static bool Same(HistoryItem stored, HistoryItem wanted) =>
        stored.Id == wanted.Id && stored.Input == wanted.Input && stored.Output == wanted.Output && stored.Timestamp == wanted.Timestamp
        && (stored.Options ?? []).SequenceEqual(wanted.Options ?? [], StringComparer.Ordinal);
}
