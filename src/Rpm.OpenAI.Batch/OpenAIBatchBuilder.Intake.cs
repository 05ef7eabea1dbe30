using System.Globalization;
using System.Text.Json;

namespace Rpm;

/// <summary>Polling and result intake: batches in flight polled until they end, their files read and their answers saved.</summary>
public sealed partial class OpenAIBatchBuilder
{
    /// <summary>Polls every batch not yet read back until it ends, then keeps its answers and the reasons for the rest.</summary>
    private async Task<(int Answered, int Unanswered)> FinishOpenBatchesAsync(List<string> batchIds, CancellationToken cancellationToken)
    {
        int answered = 0;
        int unanswered = 0;
        foreach (BatchStateStore.OpenBatch open in await _state.GetOpenBatchesAsync(cancellationToken).ConfigureAwait(false))
        {
            string batchId = open.BatchId ?? await RecoverAsync(open, cancellationToken).ConfigureAwait(false);
            if (!batchIds.Contains(batchId))
            {
                batchIds.Add(batchId);
            }

            BatchInfo info = await _api.GetAsync(batchId, cancellationToken).ConfigureAwait(false);
            while (!info.IsTerminal)
            {
                await Task.Delay(_options.PollInterval, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                info = await _api.GetAsync(batchId, cancellationToken).ConfigureAwait(false);
            }

            var answers = new Dictionary<string, string>(StringComparer.Ordinal);
            var errors = new Dictionary<string, string>(StringComparer.Ordinal);
            var damaged = new List<string>();
            if (info.OutputFileId is { } output)
            {
                ReadLines(await _api.DownloadAsync(output, $"the output of batch {batchId}", cancellationToken).ConfigureAwait(false), batchId, output, answers, errors, damaged);

                // Paid answers are saved as soon as their file is read, before the error file or the batch's status is
                // looked at: whatever goes wrong after this point, a re-run finds them and does not pay for them again.
                await _state.SaveResultsAsync(batchId, answers, new Dictionary<string, string>(), CancellationToken.None).ConfigureAwait(false);
            }

            if (info.ErrorFileId is { } error)
            {
                ReadLines(await _api.DownloadAsync(error, $"the errors of batch {batchId}", cancellationToken).ConfigureAwait(false), batchId, error, answers, errors, damaged);
            }

            // Downloaded answers were paid for: they are kept even while the build is being cancelled.
            await _state.SaveResultsAsync(batchId, answers, errors, CancellationToken.None).ConfigureAwait(false);
            List<string> missing = await _state.GetUnansweredAsync(open.InputFileId, CancellationToken.None).ConfigureAwait(false);
            string why = info.Status switch
            {
                "failed" => $"batch {batchId} failed" + (info.Errors is null ? "." : $": {info.Errors}"),
                "expired" => $"batch {batchId} expired before answering it (completion window {_options.CompletionWindow}).",
                "cancelled" => $"batch {batchId} was cancelled.",
                _ => $"batch {batchId} returned no line for it.",
            };
            if (damaged.Count > 0)
            {
                why += " Unreadable lines (truncated or not JSON), sent again: " + string.Join("; ", damaged) + ".";
            }

            await _state.SaveResultsAsync(
                batchId, new Dictionary<string, string>(), missing.Where(k => !errors.ContainsKey(k)).ToDictionary(k => k, _ => why, StringComparer.Ordinal), CancellationToken.None).ConfigureAwait(false);
            await _state.FinishBatchAsync(open.InputFileId, info.Status, CancellationToken.None).ConfigureAwait(false);
            answered += open.RequestCount - missing.Count;
            unanswered += missing.Count;
        }

        return (answered, unanswered);
    }

    /// <summary>Finds the batch of an input file uploaded by a process that stopped before noting the batch; creates it when none exists.</summary>
    private async Task<string> RecoverAsync(BatchStateStore.OpenBatch open, CancellationToken cancellationToken)
    {
        BatchInfo batch = await _api.FindByInputFileAsync(open.InputFileId, cancellationToken).ConfigureAwait(false)
            ?? await _api.CreateAsync(open.InputFileId, _options.CompletionWindow, cancellationToken).ConfigureAwait(false);
        await _state.SetBatchAsync(open.InputFileId, batch.Id, CancellationToken.None).ConfigureAwait(false);
        return batch.Id;
    }

    /// <summary>Reads an output or error file: a 200 line's body is the answer; any other line's reason is kept for the report.</summary>
    private static void ReadLines(string jsonl, string batchId, string fileId, Dictionary<string, string> answers, Dictionary<string, string> errors, List<string> damaged)
    {
        int number = 0;
        foreach (string raw in jsonl.Split('\n'))
        {
            number++;
            if (raw.Trim().Length == 0)
            {
                continue;
            }

            // A line cut short or not JSON answers nothing it can be trusted for: its request stays unanswered and goes
            // again, and the line is named (batch, file, line) in the reason; the file's other lines are still read.
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(raw);
            }
            catch (JsonException ex)
            {
                damaged.Add(string.Create(CultureInfo.InvariantCulture, $"line {number} of file {fileId} of batch {batchId} ({ex.Message})"));
                continue;
            }

            using JsonDocument owned = document;
            JsonElement line = document.RootElement;
            if (line.ValueKind != JsonValueKind.Object || !line.TryGetProperty("custom_id", out JsonElement id) || id.ValueKind != JsonValueKind.String || id.GetString() is not { } key)
            {
                damaged.Add(string.Create(CultureInfo.InvariantCulture, $"line {number} of file {fileId} of batch {batchId} (no custom_id)"));
                continue;
            }

            int status = 0;
            JsonElement body = default;
            if (line.TryGetProperty("response", out JsonElement response) && response.ValueKind == JsonValueKind.Object)
            {
                status = response.TryGetProperty("status_code", out JsonElement code) && code.ValueKind == JsonValueKind.Number ? code.GetInt32() : 0;
                response.TryGetProperty("body", out body);
            }

            if (status == 200 && body.ValueKind == JsonValueKind.Object)
            {
                answers[key] = body.GetRawText();
                errors.Remove(key);
                continue;
            }

            string said = line.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object
                ? OpenAIEndpointChatClient.ServerText(error.GetRawText())
                : body.ValueKind == JsonValueKind.Undefined ? string.Empty : OpenAIEndpointChatClient.ServerText(body.GetRawText());
            if (!answers.ContainsKey(key))
            {
                errors[key] = string.Create(CultureInfo.InvariantCulture, $"in batch {batchId} its line came back {(status == 0 ? "as an error" : "with status " + status.ToString(CultureInfo.InvariantCulture))}{(said.Length > 0 ? ": " + said : string.Empty)}");
            }
        }
    }
}
