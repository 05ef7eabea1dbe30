namespace Rpm;

/// <summary>Checks a history before any call is paid for: ids unique (and new to an existing model), outputs valid for the task, options where needed.</summary>
internal static class HistoryValidation
{
    /// <summary>Returns the items with their outputs in the task's canonical form.</summary>
    /// <exception cref="ArgumentException">An item is null, repeats an id, lacks options, or has an output invalid for the task (the item is named).</exception>
    public static IReadOnlyList<HistoryItem> Normalize(RpmTask task, IEnumerable<HistoryItem> history, UserModel? existing, string parameterName)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        if (existing is not null)
        {
            foreach (ReasoningPath path in existing.Paths)
            {
                ids.Add(path.Item.Id);
            }
        }

        var items = new List<HistoryItem>();
        int index = 0;
        foreach (HistoryItem? item in history)
        {
            if (item is null)
            {
                throw new ArgumentException($"History item at position {index} is null.", parameterName);
            }

            if (!ids.Add(item.Id))
            {
                throw new ArgumentException(
                    existing is null
                        ? $"The history item id '{item.Id}' appears more than once; ids must be unique within a user's history."
                        : $"The history item id '{item.Id}' is already in the user model of '{existing.UserId}'.",
                    parameterName);
            }

            if (task.Kind == RpmTaskKind.MultipleChoice && item.Options is not { Count: > 0 } && task.Labels.Count == 0)
            {
                throw new ArgumentException($"The multiple-choice history item '{item.Id}' has no options, and the task '{task.Name}' has no default options.", parameterName);
            }

            if (!task.TryNormalizeAnswer(item.Output, item.Options, out string output, out string? error))
            {
                throw new ArgumentException($"The output of history item '{item.Id}' is not valid for task '{task.Name}': {error}", parameterName);
            }

            items.Add(output == item.Output ? item : new HistoryItem(item.Id, item.Input, output, item.Timestamp, item.Options));
            index++;
        }

        return items;
    }
}
