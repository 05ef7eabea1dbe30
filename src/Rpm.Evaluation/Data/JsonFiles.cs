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
        ReadOnlyMemory<byte> json = Utf8Json(path, bytes);
        try
        {
            return JsonDocument.Parse(json, Options);
        }
        catch (JsonException ex)
        {
            throw new EvaluationDataException(path, null, Describe(ex), ex);
        }
    }

    /// <summary>The file's JSON as UTF-8 without a byte-order mark (editors on Windows write one); any other encoding is a clear error.</summary>
    public static ReadOnlyMemory<byte> Utf8Json(string path, byte[] bytes)
    {
        if (bytes.Length >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)))
        {
            throw new EvaluationDataException(path, null, "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8.");
        }

        // UTF-16 without a byte-order mark: every other byte of ASCII text is zero, which UTF-8 JSON never holds.
        ReadOnlySpan<byte> head = bytes.AsSpan(0, Math.Min(bytes.Length, 512));
        if (head.Length >= 4 && head.Count((byte)0) * 3 >= head.Length)
        {
            throw new EvaluationDataException(path, null, "the file looks like UTF-16 (zero bytes between its characters); save it as UTF-8.");
        }

        int start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        CheckUtf8(path, bytes.AsSpan(start));
        return bytes.AsMemory(start);
    }

    /// <summary>A JSON syntax error as a person reads it: the line and column (from 1), and what was wrong.</summary>
    public static string Describe(JsonException ex)
    {
        string what = ex.Message.Split(" LineNumber:", 2)[0].Trim().TrimEnd('.');
        return ex.LineNumber is long line
            ? string.Create(CultureInfo.InvariantCulture, $"not valid JSON at line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}: {what}.")
            : $"not valid JSON: {what}.";
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
            string.Create(CultureInfo.InvariantCulture, $"not valid UTF-8 at byte {offset} (line {line}, column {column}: byte 0x{bytes[offset]:X2}). Save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)."));
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
