using System.Text.Json;

namespace Rpm.Evaluation;

/// <summary>
/// Reads LaMP's <c>*_questions.json</c> and <c>*_outputs.json</c> files unchanged (and any LaMP-shaped pair) into an
/// <see cref="EvaluationDataset"/>. Unknown keys are ignored; malformed input fails with an
/// <see cref="EvaluationDataException"/> that names the file and the item.
/// </summary>
internal static class LampReader
{
    /// <summary>The optional question key that names the person behind a question (the MovieLens samples carry it).</summary>
    public const string UserIdKey = "user_id";

    /// <summary>Reads a questions file and its golds.</summary>
    /// <param name="questionsPath">The questions file: <c>[{"id", "input", "profile": [{"id", &lt;fields&gt;, "date"?}]}]</c>.</param>
    /// <param name="outputsPath">The outputs file: <c>{"task", "golds": [{"id", "output"}]}</c>.</param>
    /// <param name="spec">How to read the profile and answers.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The data set: one unit per question, or per user and profile when questions carry a <c>user_id</c>.</returns>
    /// <exception cref="EvaluationDataException">A file is malformed (the file and item are named).</exception>
    public static async Task<EvaluationDataset> ReadAsync(string questionsPath, string outputsPath, LampTaskSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(questionsPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputsPath);
        ArgumentNullException.ThrowIfNull(spec);
        Dictionary<string, string> golds = (await LampOutputs.ReadAsync(outputsPath, cancellationToken).ConfigureAwait(false)).ToDictionary();
        using JsonDocument document = await JsonFiles.ParseAsync(questionsPath, cancellationToken).ConfigureAwait(false);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new EvaluationDataException(questionsPath, null, "not a LaMP questions file: expected an array of {\"id\", \"input\", \"profile\"} objects.");
        }

        RpmTask task = spec.Task;
        var units = new List<(string Person, string ProfileKey, List<HistoryItem> History, List<EvaluationQuery> Queries, string FirstId)>();
        var byProfile = new Dictionary<string, int>(StringComparer.Ordinal);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        int index = 0;
        foreach (JsonElement question in document.RootElement.EnumerateArray())
        {
            cancellationToken.ThrowIfCancellationRequested();
            string? id = JsonFiles.Field(question, "id");
            if (string.IsNullOrWhiteSpace(id))
            {
                throw new EvaluationDataException(questionsPath, $"#{index}", "the question has no \"id\".");
            }

            if (!ids.Add(id))
            {
                throw new EvaluationDataException(questionsPath, id, "the question id appears more than once.");
            }

            string? input = JsonFiles.Field(question, "input");
            if (string.IsNullOrWhiteSpace(input))
            {
                throw new EvaluationDataException(questionsPath, id, "the question has no \"input\" text.");
            }

            if (!question.TryGetProperty("profile", out JsonElement profile) || profile.ValueKind != JsonValueKind.Array || profile.GetArrayLength() == 0)
            {
                throw new EvaluationDataException(questionsPath, id, "the question has no profile: a LaMP question needs a \"profile\" array with at least one item (the user's history).");
            }

            if (!golds.TryGetValue(id, out string? gold))
            {
                throw new EvaluationDataException(outputsPath, id, $"no gold answer for this question id of {Path.GetFileName(questionsPath)}; the outputs file must have a {{\"id\", \"output\"}} entry for every question.");
            }

            CheckGold(task, outputsPath, id, gold);
            List<HistoryItem> history = ReadProfile(questionsPath, id, profile, spec);
            string person = JsonFiles.Field(question, UserIdKey) is { Length: > 0 } user ? user : id;
            string profileKey = person + "\n" + string.Join("\n", history.Select(h => h.Id));
            var query = new EvaluationQuery(id, input, gold) { Content = spec.ContentRule.Extract(input) };
            if (byProfile.TryGetValue(profileKey, out int existing))
            {
                units[existing].Queries.Add(query);
            }
            else
            {
                byProfile[profileKey] = units.Count;
                units.Add((person, profileKey, history, [query], id));
            }

            index++;
        }

        if (units.Count == 0)
        {
            throw new EvaluationDataException(questionsPath, null, "the file holds no questions.");
        }

        var perPerson = units.GroupBy(u => u.Person, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        EvaluationUser[] users =
        [
            .. units.Select(u => new EvaluationUser(
                perPerson[u.Person] == 1 ? u.Person : $"{u.Person}@{u.FirstId}",
                u.Person,
                u.History,
                u.Queries)),
        ];
        return new EvaluationDataset(spec.Name, task, users, spec.HistoryHasTaskAnswers);
    }

    private static List<HistoryItem> ReadProfile(string path, string questionId, JsonElement profile, LampTaskSpec spec)
    {
        var history = new List<HistoryItem>(profile.GetArrayLength());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int position = 0;
        foreach (JsonElement entry in profile.EnumerateArray())
        {
            string itemId = JsonFiles.Field(entry, "id") is { Length: > 0 } given ? given : $"{questionId}-{position}";
            string where = $"{itemId}' of question '{questionId}";
            if (entry.ValueKind != JsonValueKind.Object)
            {
                throw new EvaluationDataException(path, where, "a profile item must be an object.");
            }

            if (!seen.Add(itemId))
            {
                // LaMP profiles are unique by id; a repeat would make two history items indistinguishable.
                itemId = $"{itemId}~{position}";
                seen.Add(itemId);
            }

            string input;
            if (spec.ProfileInputFields.Count == 0)
            {
                input = spec.ProfileInputPlaceholder!;
            }
            else
            {
                var parts = new List<string>();
                foreach (string field in spec.ProfileInputFields)
                {
                    if (JsonFiles.Field(entry, field) is { } value && !string.IsNullOrWhiteSpace(value))
                    {
                        parts.Add(spec.ProfileInputFields.Count == 1 ? value.Trim() : $"{field}: {value.Trim()}");
                    }
                }

                if (parts.Count == 0)
                {
                    throw new EvaluationDataException(path, where, $"the profile item has none of the input fields {string.Join(", ", spec.ProfileInputFields.Select(f => $"\"{f}\""))} (task {spec.Name}).");
                }

                input = string.Join("\n\n", parts);
            }

            string? output = JsonFiles.Field(entry, spec.ProfileOutputField);
            if (string.IsNullOrWhiteSpace(output))
            {
                if (spec.HistoryHasTaskAnswers)
                {
                    throw new EvaluationDataException(path, where, $"the profile item has no \"{spec.ProfileOutputField}\" (the user's answer, task {spec.Name}).");
                }

                output = "(empty)";
            }

            if (spec.HistoryHasTaskAnswers && !spec.Task.TryNormalizeAnswer(output, null, out _, out string? error))
            {
                throw new EvaluationDataException(path, where, $"the profile's \"{spec.ProfileOutputField}\" is not an answer of task {spec.Name}: {error}");
            }

            history.Add(new HistoryItem(itemId, input, output.Trim(), JsonFiles.Date(entry)));
            position++;
        }

        return history;
    }

    internal static void CheckGold(RpmTask task, string path, string id, string gold)
    {
        switch (task.Kind)
        {
            case RpmTaskKind.Classification when !task.Labels.Contains(gold.Trim(), StringComparer.Ordinal):
                throw new EvaluationDataException(path, id, $"the gold '{gold}' is not one of the task's labels ({string.Join(", ", task.Labels)}).");
            case RpmTaskKind.Rating when !PythonFloat.TryParse(gold, out _):
                throw new EvaluationDataException(path, id, $"the gold '{gold}' is not a number.");
            case RpmTaskKind.Rating when !task.Scale!.TryParse(gold, out _, out string? offScale):
                // Like a gold label outside the label set: the task's scale or the gold is wrong, and MAE would mislead.
                throw new EvaluationDataException(path, id, $"the gold '{gold}' is not on the task's scale: {offScale} Fix the gold, or the task's scale (--scale or task.json).");
        }
    }
}
