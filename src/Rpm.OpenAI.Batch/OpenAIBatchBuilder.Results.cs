using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rpm;

// Reading a wave back: polling open batches until they end, recovering batches a stopped run left open, and reading
// their output and error files into the state.
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
            if (info.OutputFileId is { } output)
            {
                ReadLines(await _api.DownloadAsync(output, $"the output of batch {batchId}", cancellationToken).ConfigureAwait(false), batchId, answers, errors);
            }

            if (info.ErrorFileId is { } error)
            {
                ReadLines(await _api.DownloadAsync(error, $"the errors of batch {batchId}", cancellationToken).ConfigureAwait(false), batchId, answers, errors);
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
    private static void ReadLines(string jsonl, string batchId, Dictionary<string, string> answers, Dictionary<string, string> errors)
    {
        foreach (string raw in jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using JsonDocument document = JsonDocument.Parse(raw);
            JsonElement line = document.RootElement;
            if (!line.TryGetProperty("custom_id", out JsonElement id) || id.GetString() is not { } key)
            {
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
