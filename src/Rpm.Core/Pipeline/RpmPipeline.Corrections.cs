namespace Rpm;

/// <content>Removing and correcting single history items of a saved model (a retracted or changed answer).</content>
public sealed partial class RpmPipeline
{
    /// <summary>
    /// Removes history items from a user's saved model (a retracted rating, an item the user asked to forget) without a
    /// model call: their reasoning paths go, every other path stays as it is, and the statistics are counted again over
    /// the remaining items (stage 3 is local). The factors stay.
    /// </summary>
    /// <param name="userId">The user, who must have a saved model.</param>
    /// <param name="itemIds">The ids of the items to remove; each must be in the model.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The saved model without the items.</returns>
    /// <remarks>
    /// Runs under the same per-user single flight as builds and updates, so it never races one in this process. The
    /// removed items' text is gone from the saved model; how the bytes leave the store's files is the store's (the
    /// SQLite store deletes securely). To remove every item, erase the user (<see cref="EraseUserAsync"/>).
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is blank, <paramref name="itemIds"/> is empty, names an id twice or an id the model does not have (the id is named), or would remove every item.</exception>
    /// <exception cref="InvalidOperationException">The user has no saved model.</exception>
    /// <exception cref="UserModelConcurrencyException">Another writer saved the user's model meanwhile.</exception>
    public async Task<UserModel> RemoveHistoryAsync(string userId, IEnumerable<string> itemIds, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(itemIds);
        List<string> ids = [.. itemIds];
        if (ids.Count == 0)
        {
            throw new ArgumentException("No history item ids were given to remove.", nameof(itemIds));
        }

        var unique = new HashSet<string>(StringComparer.Ordinal);
        foreach (string id in ids)
        {
            if (string.IsNullOrWhiteSpace(id) || !unique.Add(id))
            {
                throw new ArgumentException(string.IsNullOrWhiteSpace(id) ? "A history item id to remove is blank." : $"The history item id '{id}' is given twice.", nameof(itemIds));
            }
        }

        UserModel first = await ExistingAsync(userId, cancellationToken).ConfigureAwait(false);
        return await SingleFlightAsync(userId, "remove:" + string.Join('\u001f', ids.Order(StringComparer.Ordinal)) + '\u001e' + first.Version, async ct =>
        {
            UserModel existing = await ExistingAsync(userId, ct).ConfigureAwait(false);
            var present = existing.Paths.Select(p => p.Item.Id).ToHashSet(StringComparer.Ordinal);
            if (ids.FirstOrDefault(id => !present.Contains(id)) is { } missing)
            {
                throw new ArgumentException($"The user model of '{userId}' has no history item '{missing}' to remove.", nameof(itemIds));
            }

            if (unique.Count >= existing.Paths.Count)
            {
                throw new ArgumentException($"Removing {unique.Count} item(s) would leave the user model of '{userId}' empty; erase the user instead ({nameof(EraseUserAsync)}).", nameof(itemIds));
            }

            return await SavedAsync(userId, _builder.RemoveHistoryAsync(existing, unique, ct)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Corrects history items of a user's saved model in place (a changed rating, an edited answer), keeping every other
    /// reasoning path: an item whose input is unchanged keeps its features (stage 1 reads the input only) and its
    /// retrieval key, and only its reasoning path is written again against the recounted statistics (stage 4: one call
    /// per item, or per batch; for a generation task also its influence judgment, stage 3's model part). An item whose
    /// input changed is read again as well (stage 1, tagged with the saved factors) and embedded again.
    /// </summary>
    /// <param name="userId">The user, who must have a saved model.</param>
    /// <param name="correctedItems">The items as they are now; each id must be in the model. An item equal to the saved one is left as it is.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The saved, corrected model.</returns>
    /// <remarks>
    /// The path of an item must be written again because it reasons toward the item's answer: a path that explains a
    /// retracted answer would guide the model wrongly. The factors stay (a rebuild is <see cref="BuildUserModelAsync"/>).
    /// Calls are checkpointed like an update's: a failed or deferred correction resumes where it stopped when run again.
    /// An item whose corrected path the model refuses is left out of the model, counted in
    /// <see cref="BuildDiagnostics.ItemsExcluded"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">An item is invalid for the task (the item is named), an id is given twice, or the model has no item with that id.</exception>
    /// <exception cref="InvalidOperationException">The user has no saved model.</exception>
    /// <exception cref="RpmStageException">A model call failed.</exception>
    /// <exception cref="RpmCallDeferredException">The chat client deferred some calls; finished calls are checkpointed, and the correction continues when run again.</exception>
    /// <exception cref="UserModelConcurrencyException">Another writer saved the user's model meanwhile.</exception>
    public async Task<UserModel> CorrectHistoryAsync(string userId, IEnumerable<HistoryItem> correctedItems, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(correctedItems);
        List<HistoryItem> given = [.. correctedItems];
        UserModel first = await ExistingAsync(userId, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<HistoryItem> valid = HistoryValidation.Normalize(first.Task, given, existing: null, nameof(correctedItems));
        if (valid.Count == 0)
        {
            throw new ArgumentException("No history items were given to correct.", nameof(correctedItems));
        }

        return await SingleFlightAsync(userId, WorkFingerprint.Of("correct:" + first.Version, first.Task, valid), async ct =>
        {
            UserModel existing = await ExistingAsync(userId, ct).ConfigureAwait(false);
            Dictionary<string, HistoryItem> saved = existing.Paths.ToDictionary(p => p.Item.Id, p => p.Item, StringComparer.Ordinal);
            if (valid.FirstOrDefault(i => !saved.ContainsKey(i.Id)) is { } unknown)
            {
                throw new ArgumentException($"The user model of '{userId}' has no history item '{unknown.Id}' to correct; add it with {nameof(AddHistoryAsync)}.", nameof(correctedItems));
            }

            List<HistoryItem> changed = [.. valid.Where(i => !SameItem(i, saved[i.Id]))];
            return changed.Count == 0 ? existing : await SavedAsync(userId, _builder.CorrectHistoryAsync(existing, changed, ct)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static bool SameItem(HistoryItem a, HistoryItem b) =>
        a.Input == b.Input && a.Output == b.Output && a.Timestamp == b.Timestamp && (a.Options ?? []).SequenceEqual(b.Options ?? [], StringComparer.Ordinal);
}
