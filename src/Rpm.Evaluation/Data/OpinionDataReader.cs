using System.Text.Json;

namespace Rpm.Evaluation;

/// <summary>
/// Reads opinion data in which a group stands for the user (as GlobalOpinionQA is used in the RPM paper, a country per
/// user) from the JSON format <c>rpm-opinions/1</c>:
/// <code>
/// {
///   "format": "rpm-opinions/1",
///   "name": "my-opinions",
///   "description": "Answer a survey question the way people of this group most often answer it.",
///   "groups": [
///     { "id": "Country A",
///       "history": [ { "id": "q1", "question": "...", "options": ["Yes", "No"], "answer": "Yes" } ],
///       "queries": [ { "id": "q7", "question": "...", "options": ["Agree", "Neutral", "Disagree"], "answer": "Agree" } ] }
///   ]
/// }
/// </code>
/// Every question has its own options (at least two) and the group's answer is one of them (for GlobalOpinionQA, the
/// option most of the group chose). Query ids are unique in the file; unknown keys (a "distribution", notes) are ignored.
/// A question's content (<see cref="EvaluationQuery.Content"/>, the retrieval key) is its whole text: the question
/// carries no instruction around it, and its options travel separately.
/// </summary>
public static class OpinionDataReader
{
    /// <summary>The value of the <c>format</c> key.</summary>
    public const string Format = "rpm-opinions/1";

    /// <summary>Determines whether a JSON file declares the opinions format (reads only its start).</summary>
    /// <param name="path">The file.</param>
    /// <returns><see langword="true"/> when the file's <c>format</c> is <see cref="Format"/>.</returns>
    public static bool IsOpinionFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(JsonFiles.Utf8Json(path, File.ReadAllBytes(path)), JsonFiles.Options);
            return JsonFiles.Field(document.RootElement, "format") == Format;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Reads an opinions file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>A multiple-choice data set with one unit per group.</returns>
    /// <exception cref="EvaluationDataException">The file is malformed (the file and item are named).</exception>
    public static async Task<EvaluationDataset> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using JsonDocument document = await JsonFiles.ParseAsync(path, cancellationToken).ConfigureAwait(false);
        JsonElement root = document.RootElement;
        if (JsonFiles.Field(root, "format") != Format)
        {
            throw new EvaluationDataException(path, null, $"not an opinions file: the top-level object needs \"format\": \"{Format}\".");
        }

        string name = JsonFiles.Field(root, "name") is { Length: > 0 } n ? n : Path.GetFileNameWithoutExtension(path);
        string description = JsonFiles.Field(root, "description") is { Length: > 0 } d ? d : "Answer a survey question the way people of this group most often answer it.";
        if (!root.TryGetProperty("groups", out JsonElement groups) || groups.ValueKind != JsonValueKind.Array || groups.GetArrayLength() == 0)
        {
            throw new EvaluationDataException(path, null, "the file needs a non-empty \"groups\" array.");
        }

        var users = new List<EvaluationUser>();
        var queryIds = new HashSet<string>(StringComparer.Ordinal);
        var groupIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonElement group in groups.EnumerateArray())
        {
            string? groupId = JsonFiles.Field(group, "id");
            if (string.IsNullOrWhiteSpace(groupId))
            {
                throw new EvaluationDataException(path, $"group #{users.Count}", "the group has no \"id\".");
            }

            if (!groupIds.Add(groupId))
            {
                throw new EvaluationDataException(path, groupId, "the group id appears more than once.");
            }

            var history = new List<HistoryItem>();
            var historyIds = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (id, question, options, answer) in ReadQuestions(path, groupId, group, "history"))
            {
                if (!historyIds.Add(id))
                {
                    throw new EvaluationDataException(path, $"{groupId}/{id}", "the history question id appears more than once in the group.");
                }

                history.Add(new HistoryItem(id, question, answer, null, options));
            }

            if (history.Count == 0)
            {
                throw new EvaluationDataException(path, groupId, "the group has no history: add answered questions under \"history\".");
            }

            var queries = new List<EvaluationQuery>();
            foreach (var (id, question, options, answer) in ReadQuestions(path, groupId, group, "queries"))
            {
                if (!queryIds.Add(id))
                {
                    throw new EvaluationDataException(path, $"{groupId}/{id}", "the query id appears more than once in the file; query ids must be unique because predictions are keyed by them.");
                }

                queries.Add(new EvaluationQuery(id, question, answer, options));
            }

            if (queries.Count == 0)
            {
                throw new EvaluationDataException(path, groupId, "the group has no queries: add questions to predict under \"queries\".");
            }

            users.Add(new EvaluationUser(groupId, groupId, history, queries));
        }

        return new EvaluationDataset(name, RpmTask.MultipleChoice(name, description), users);
    }

    private static List<(string Id, string Question, string[] Options, string Answer)> ReadQuestions(string path, string groupId, JsonElement group, string key)
    {
        var result = new List<(string, string, string[], string)>();
        if (!group.TryGetProperty(key, out JsonElement list))
        {
            return result;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw new EvaluationDataException(path, groupId, $"\"{key}\" must be an array of questions.");
        }

        int index = 0;
        foreach (JsonElement entry in list.EnumerateArray())
        {
            string id = JsonFiles.Field(entry, "id") is { Length: > 0 } given ? given : throw new EvaluationDataException(path, $"{groupId}/{key}#{index}", "the question has no \"id\".");
            string where = $"{groupId}/{id}";
            string question = JsonFiles.Field(entry, "question") is { } q && !string.IsNullOrWhiteSpace(q) ? q : throw new EvaluationDataException(path, where, "the question has no \"question\" text.");
            if (!entry.TryGetProperty("options", out JsonElement optionList) || optionList.ValueKind != JsonValueKind.Array)
            {
                throw new EvaluationDataException(path, where, "the question has no \"options\" array.");
            }

            string[] options = [.. optionList.EnumerateArray().Select(o => JsonFiles.Text(o)?.Trim() ?? string.Empty)];
            if (options.Length < 2 || options.Any(string.IsNullOrEmpty) || options.Distinct(StringComparer.OrdinalIgnoreCase).Count() != options.Length)
            {
                throw new EvaluationDataException(path, where, "\"options\" needs at least two distinct, non-empty options.");
            }

            string answer = JsonFiles.Field(entry, "answer")?.Trim() ?? throw new EvaluationDataException(path, where, "the question has no \"answer\".");
            string? match = options.FirstOrDefault(o => string.Equals(o, answer, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                throw new EvaluationDataException(path, where, $"the answer '{answer}' is not one of its options ({string.Join(" | ", options)}).");
            }

            result.Add((id, question, options, match));
            index++;
        }

        return result;
    }
}
