using System.Globalization;
using System.Text.Json;

namespace Rpm;

/// <summary>Polling and result intake: batches in flight polled until they end, their files read and their answers saved.</summary>
public sealed partial class OpenAIBatchBuilder
{
    // OpenAI says a cancellation "may take up to 10 minutes" (Batch API reference, POST /batches/{id}/cancel); six times
    // that, and a batch still cancelling is left behind rather than polled without end.
    private static readonly TimeSpan CancelGrace = TimeSpan.FromHours(1);

    /// <summary>
    /// Polls every batch not yet read back until it ends (cancelling one that outlives <see cref="OpenAIBatchOptions.MaxBatchWait"/>),
    /// then keeps its answers and the reasons for the rest.
    /// </summary>
    /// <param name="batchIds">The run's batches; those found here are added.</param>
    /// <param name="timedOut">The run's batches cancelled for their age; those cancelled here are added.</param>
    /// <param name="refundLimited">Whether a batch failed by the enqueued-token limit gives back its requests' submission.</param>
    /// <param name="polled">Told of each poll that found a batch still running, with its age.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    private async Task<IntakeRound> FinishOpenBatchesAsync(
        List<string> batchIds, List<string> timedOut, bool refundLimited, Action<BatchInfo, TimeSpan> polled, CancellationToken cancellationToken)
    {
        int answered = 0;
        int unanswered = 0;
        int limitedRequests = 0;
        string? limitReason = null;
        bool freed = false;
        TimeProvider time = _options.TimeProvider;
        foreach (BatchStateStore.OpenBatch open in await _state.GetOpenBatchesAsync(cancellationToken).ConfigureAwait(false))
        {
            string batchId = open.BatchId ?? await RecoverAsync(open, cancellationToken).ConfigureAwait(false);
            if (!batchIds.Contains(batchId))
            {
                batchIds.Add(batchId);
            }

            DateTimeOffset firstPoll = time.GetUtcNow();
            DateTimeOffset? cancelledAt = null;
            TimeSpan age = TimeSpan.Zero;
            BatchInfo info = await _api.GetAsync(batchId, cancellationToken).ConfigureAwait(false);
            while (!info.IsTerminal)
            {
                DateTimeOffset now = time.GetUtcNow();
                age = Age(info, firstPoll, now);
                if (cancelledAt is null && age >= _options.MaxBatchWait)
                {
                    // Past the completion window and its margin OpenAI should have expired the batch itself: cancelling
                    // it turns what it answered into an output file (cancelled batches bill and return completed requests).
                    OpenAIBatchLog.TimedOut(_logger, batchId, info.Status, age, _options.MaxBatchWait, info.RequestsCompleted);
                    cancelledAt = now;
                    timedOut.Add(batchId);
                    info = await CancelAsync(batchId, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (cancelledAt is { } since && now - since >= CancelGrace)
                {
                    OpenAIBatchLog.CancelStuck(_logger, batchId, info.Status, now - since);
                    break;
                }

                OpenAIBatchLog.Waiting(_logger, batchId, info.Status, age, info.RequestsCompleted, info.RequestsTotal, info.RequestsFailed, _options.PollInterval, _options.MaxBatchWait);
                polled(info, age);
                await Task.Delay(_options.PollInterval, time, cancellationToken).ConfigureAwait(false);
                info = await _api.GetAsync(batchId, cancellationToken).ConfigureAwait(false);
            }

            bool limited = info.IsTokenLimited;
            freed |= !limited && info.IsTerminal;

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
                _ when cancelledAt is not null => string.Create(
                    CultureInfo.InvariantCulture,
                    $"batch {batchId} had not ended after {age} (OpenAIBatchOptions.MaxBatchWait {_options.MaxBatchWait}) and was cancelled ({info.Status}) before answering it."),
                "failed" when limited => $"batch {batchId} was refused by the enqueued token limit: {info.Errors}",
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
            await _state.FinishBatchAsync(open.InputFileId, info.Status, refund: limited && refundLimited, CancellationToken.None).ConfigureAwait(false);
            answered += open.RequestCount - missing.Count;
            unanswered += missing.Count;
            if (limited)
            {
                limitedRequests += missing.Count;
                limitReason ??= info.Errors;
            }
        }

        return new IntakeRound(answered, unanswered, limitedRequests, limitReason, freed);
    }

    /// <summary>How old a batch is: by its <c>created_at</c> when the server gives one, else since this process first polled it.</summary>
    private static TimeSpan Age(BatchInfo info, DateTimeOffset firstPoll, DateTimeOffset now)
    {
        TimeSpan age = now - (info.CreatedAt ?? firstPoll);
        return age < TimeSpan.Zero ? TimeSpan.Zero : age;
    }

    /// <summary>Cancels a batch; one that ended meanwhile (OpenAI refuses to cancel it) is read as it is.</summary>
    private async Task<BatchInfo> CancelAsync(string batchId, CancellationToken cancellationToken)
    {
        try
        {
            return await _api.CancelAsync(batchId, cancellationToken).ConfigureAwait(false);
        }
        catch (OpenAIBatchException ex) when (ex.StatusCode is >= 400 and < 500 and not 429)
        {
            return await _api.GetAsync(batchId, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>What one round of polling found: answers, the requests a patience limit refused (and its words), and whether any accepted batch ended.</summary>
    private readonly record struct IntakeRound(int Answered, int Unanswered, int LimitedRequests, string? LimitReason, bool Freed);

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
