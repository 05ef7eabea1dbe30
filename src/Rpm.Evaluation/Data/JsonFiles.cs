using System.Globalization;
using System.Text.Json;

namespace Rpm.Evaluation;

/// <summary>Reads data files as JSON documents with errors that name the file.</summary>
internal static class JsonFiles
{
    public static async Task<JsonDocument> ParseAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new EvaluationDataException(path, null, "the file does not exist.");
        }

        try
        {
            await using FileStream stream = File.OpenRead(path);
            return await JsonDocument.ParseAsync(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw new EvaluationDataException(path, null, $"not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>A string, or a number's raw text (LaMP writes some ids and scores as numbers); null otherwise.</summary>
    public static string? Text(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.GetRawText(),
        _ => null,
    };

    public static string? Field(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) ? Text(value) : null;

    public static DateTimeOffset? Date(JsonElement element) =>
        Field(element, "date") is string text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date) ? date : null;
}
