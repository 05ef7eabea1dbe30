using System.Globalization;
using System.Text.Json;

namespace Rpm;

/// <summary>Submission: a wave split into batch input files within OpenAI's limits, uploaded, and its batches created.</summary>
public sealed partial class OpenAIBatchBuilder
{
    /// <summary>
    /// Splits a wave into batches within OpenAI's limits, uploads each input file, notes it, then creates its batch and
    /// notes the id; returns the ids, and the requests whose creation was still rate-limited after its waits.
    /// </summary>
    private async Task<(List<string> Ids, int RateLimited)> SubmitAsync(int wave, List<PendingRequests.PendingRequest> requests, bool refundLimited, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        int rateLimited = 0;
        int part = 0;
        Dictionary<string, HashSet<string>> askers = requests.ToDictionary(r => r.Key, r => r.Users, StringComparer.Ordinal);
        foreach (var (lines, keys) in Split(requests))
        {
            part++;
            string fileName = string.Create(CultureInfo.InvariantCulture, $"rpm-wave-{wave}-part-{part}.jsonl");
            string fileId = await _api.UploadAsync(lines, fileName, cancellationToken).ConfigureAwait(false);
            await _state.AddUploadAsync(fileId, wave, keys, askers, CancellationToken.None).ConfigureAwait(false);

            // Noted before the batch exists: if this process stops before it notes the batch's id, or the creation's answer
            // is lost, the batch is looked for by its input file (FinishOpenBatchesAsync) instead of being paid for twice.
            BatchInfo batch;
            try
            {
                batch = await _api.CreateAsync(fileId, _options.CompletionWindow, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OpenAIBatchException { StatusCode: null or >= 500 } or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                continue;
            }
            catch (OpenAIBatchException ex) when (ex.StatusCode is 429 && !ex.Message.Contains("insufficient_quota", StringComparison.OrdinalIgnoreCase))
            {
                // Still rate-limited after the Retry-After waits: a 429 created nothing, and asks for patience, not a
                // new try; the requests go again after the backoff without counting this submission.
                await _state.SaveResultsAsync(null, new Dictionary<string, string>(), keys.ToDictionary(k => k, _ => ex.Message, StringComparer.Ordinal), CancellationToken.None).ConfigureAwait(false);
                await _state.FinishBatchAsync(fileId, "rate_limited", refundLimited, CancellationToken.None).ConfigureAwait(false);
                rateLimited += keys.Count;
                continue;
            }
            catch (OpenAIBatchException ex) when (ex.StatusCode is >= 400 and < 500)
            {
                // Refused outright: no batch exists. Its requests count this submission and go again in the next wave, so
                // a refusal that persists ends, after MaxSubmissions, in per-user errors that carry the server's words.
                await _state.SaveResultsAsync(null, new Dictionary<string, string>(), keys.ToDictionary(k => k, _ => ex.Message, StringComparer.Ordinal), CancellationToken.None).ConfigureAwait(false);
                await _state.FinishBatchAsync(fileId, "rejected", refund: false, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            await _state.SetBatchAsync(fileId, batch.Id, CancellationToken.None).ConfigureAwait(false);
            ids.Add(batch.Id);
        }

        return (ids, rateLimited);
    }

    private IEnumerable<(byte[] Lines, List<string> Keys)> Split(List<PendingRequests.PendingRequest> requests)
    {
        var buffer = new MemoryStream();
        var keys = new List<string>();
        foreach (PendingRequests.PendingRequest request in requests)
        {
            byte[] line = Line(request);
            if (line.Length > _options.MaxBytesPerBatch)
            {
                throw new OpenAIBatchException(
                    string.Create(CultureInfo.InvariantCulture, $"The request {request.Key} of '{string.Join("', '", request.Users)}' is {line.Length} bytes, more than a batch input file may hold ({_options.MaxBytesPerBatch} bytes)."))
                {
                    RequestId = request.Key,
                    UserId = request.Users.FirstOrDefault(),
                };
            }

            if (keys.Count > 0 && (keys.Count >= _options.MaxRequestsPerBatch || buffer.Length + line.Length > _options.MaxBytesPerBatch))
            {
                yield return (buffer.ToArray(), keys);
                buffer = new MemoryStream();
                keys = [];
            }

            buffer.Write(line);
            keys.Add(request.Key);
        }

        if (keys.Count > 0)
        {
            yield return (buffer.ToArray(), keys);
        }
    }

    private static byte[] Line(PendingRequests.PendingRequest request)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("custom_id", request.Key);
            writer.WriteString("method", "POST");
            writer.WriteString("url", "/v1/chat/completions");
            writer.WritePropertyName("body");

            // Re-written without its whitespace: a JSONL line must not break, and the values are the same bytes' values.
            using JsonDocument body = JsonDocument.Parse(request.Body);
            body.WriteTo(writer);
            writer.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }
}
