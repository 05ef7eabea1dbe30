using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rpm.Evaluation;

/// <summary>A LaMP outputs file: <c>{"task": ..., "golds": [{"id": ..., "output": ...}]}</c>. Gold files and prediction files share this shape.</summary>
public sealed class LampOutputs
{
    /// <summary>Initializes a new instance of the <see cref="LampOutputs"/> class.</summary>
    /// <param name="task">The task name written in the file (e.g. <c>LaMP_2</c>).</param>
    /// <param name="items">The answers by id, in order.</param>
    public LampOutputs(string task, IReadOnlyList<KeyValuePair<string, string>> items)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(items);
        Task = task;
        Items = items;
    }

    /// <summary>Gets the task name written in the file.</summary>
    public string Task { get; }

    /// <summary>Gets the answers by id, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Items { get; }

    /// <summary>Checks that every answer, read as a gold, is valid for the task: a label of the set, a number on the scale.</summary>
    /// <param name="task">The task.</param>
    /// <param name="path">The file the golds came from, for the message.</param>
    /// <exception cref="EvaluationDataException">A gold is not valid for the task (the file and the id are named).</exception>
    public void CheckGolds(RpmTask task, string path)
    {
        ArgumentNullException.ThrowIfNull(task);
        foreach (var (id, gold) in Items)
        {
            LampReader.CheckGold(task, path, id, gold);
        }
    }

    /// <summary>Returns the answers as a dictionary by id.</summary>
    /// <returns>The dictionary.</returns>
    public Dictionary<string, string> ToDictionary() => Items.ToDictionary(i => i.Key, i => i.Value, StringComparer.Ordinal);

    /// <summary>Reads an outputs (or predictions) file; unknown keys are ignored.</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The outputs.</returns>
    /// <exception cref="EvaluationDataException">The file is not in LaMP's outputs format, or an id repeats (both name the file and item).</exception>
    public static async Task<LampOutputs> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using JsonDocument document = await JsonFiles.ParseAsync(path, cancellationToken).ConfigureAwait(false);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("golds", out JsonElement golds) || golds.ValueKind != JsonValueKind.Array)
        {
            throw new EvaluationDataException(path, null, "not a LaMP outputs file: expected an object {\"task\": ..., \"golds\": [{\"id\": ..., \"output\": ...}]}.");
        }

        string task = root.TryGetProperty("task", out JsonElement t) ? JsonFiles.Text(t) ?? string.Empty : string.Empty;
        var items = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int index = 0;
        foreach (JsonElement gold in golds.EnumerateArray())
        {
            string? id = gold.ValueKind == JsonValueKind.Object && gold.TryGetProperty("id", out JsonElement idElement) ? JsonFiles.Text(idElement) : null;
            if (string.IsNullOrWhiteSpace(id))
            {
                throw new EvaluationDataException(path, $"#{index}", "the entry has no \"id\".");
            }

            if (!gold.TryGetProperty("output", out JsonElement output) || JsonFiles.Text(output) is not string text)
            {
                throw new EvaluationDataException(path, id, "the entry has no \"output\" (a string, or a number for ratings).");
            }

            if (!seen.Add(id))
            {
                throw new EvaluationDataException(path, id, "the id appears more than once.");
            }

            items.Add(new(id, text));
            index++;
        }

        return new LampOutputs(task, items);
    }

    /// <summary>Writes the outputs in LaMP's format (indented UTF-8 JSON).</summary>
    /// <param name="path">The file; its folder is created when missing.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>A task that completes when the file is written.</returns>
    public async Task WriteAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        await using FileStream stream = File.Create(path);
        await using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("task", Task);
        writer.WriteStartArray("golds");
        foreach (var (id, output) in Items)
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("output", output);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
