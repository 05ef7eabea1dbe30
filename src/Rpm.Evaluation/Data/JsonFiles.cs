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

        byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        CheckUtf8(path, bytes);
        try
        {
            return JsonDocument.Parse(bytes, Options);
        }
        catch (JsonException ex)
        {
            throw new EvaluationDataException(path, null, $"not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>The options every data file is read with: trailing commas and comments allowed.</summary>
    public static JsonDocumentOptions Options { get; } = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>
    /// Rejects text that is not UTF-8, naming the byte, line and column, before JSON parsing (which would accept it and
    /// fail only when a string is read, far from the file).
    /// </summary>
    public static void CheckUtf8(string path, ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return;
        }

        // Decode in chunks: the status stops at the first invalid sequence and says how far it got.
        char[] buffer = new char[4096];
        int offset = 0;
        while (offset < bytes.Length)
        {
            System.Buffers.OperationStatus status = System.Text.Unicode.Utf8.ToUtf16(bytes[offset..], buffer, out int read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            offset += read;
            if (status == System.Buffers.OperationStatus.InvalidData || status == System.Buffers.OperationStatus.NeedMoreData)
            {
                break;
            }
        }

        int line = 1 + bytes[..offset].Count((byte)'\n');
        int lineStart = bytes[..offset].LastIndexOf((byte)'\n') + 1;
        int column = 1 + System.Text.Encoding.UTF8.GetCharCount(bytes[lineStart..offset]);
        throw new EvaluationDataException(
            path,
            null,
            string.Create(CultureInfo.InvariantCulture, $"not valid UTF-8 at byte {offset} (line {line}, column {column}: byte 0x{bytes[offset]:X2}). Save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)."));
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
