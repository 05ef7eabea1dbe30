using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Builds many users' models through OpenAI's Batch API, at half the synchronous price. Build a pipeline over
/// <see cref="ChatClient"/> and hand it to <see cref="BuildAsync"/>: every user's build runs against the answers batches
/// have returned so far; the calls with no answer yet are collected (every user's features first, then every user's
/// factors, then every reasoning path, and repair turns as they come), submitted as one batch per wave, polled until the
/// batch ends, and read back into the state file; then the builds run again and resume from their checkpoints, until
/// every user's model is saved.
/// </summary>
/// <remarks>
/// Every answer a batch returned is kept in <see cref="OpenAIBatchOptions.StatePath"/>, keyed by the exact request body
/// the synchronous client would send, so no request is paid twice; the batches in flight are kept there too, so a process
/// stopped while a batch runs polls that batch when started again instead of submitting it again. Cancelling
/// <see cref="BuildAsync"/> does not cancel a submitted batch: it keeps running at OpenAI, and the next run reads it back.
/// </remarks>
public sealed class OpenAIBatchBuilder : IDisposable
{
    private readonly OpenAIBatchOptions _options;
    private readonly BatchStateStore _state;
    private readonly BatchReplayHandler _replay;
    private readonly HttpClient _replayHttp;
    private readonly HttpClient _apiHttp;
    private readonly HttpClient _createHttp;
    private readonly bool _ownsApiHttp;
    private readonly OpenAIBatchApi _api;
    private readonly IChatClient _chatClient;
    private readonly SemaphoreSlim _running = new(1, 1);

    /// <summary>Initializes a new instance of the <see cref="OpenAIBatchBuilder"/> class.</summary>
    /// <param name="options">The endpoint, the state file and the limits; validated here.</param>
    /// <param name="httpClient">
    /// The HTTP client for the Files and Batches calls; <see langword="null"/> to create one with
    /// <see cref="EndpointResilience"/>'s build profile from <see cref="OpenAIBatchOptions.Endpoint"/> (and one without retries for batch
    /// creations). Not disposed here when given. A given client should not retry POSTs blindly: a batch creation whose
    /// answer is lost is looked up by its input file before it is created again, but a transport retry would not be.
    /// </param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public OpenAIBatchBuilder(OpenAIBatchOptions options, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _state = new BatchStateStore(options.StatePath);
        _replay = new BatchReplayHandler(_state);
        _replayHttp = new HttpClient(_replay) { Timeout = Timeout.InfiniteTimeSpan };
        _chatClient = RpmOpenAI.CreateChatClient(options.Endpoint, _replayHttp);
        _ownsApiHttp = httpClient is null;
        // Files and Batches calls are background work wherever they are made: always the patient build profile.
        _apiHttp = httpClient ?? new HttpClient(EndpointResilience.CreateHandler(options.Endpoint, profile: EndpointRetryProfile.Build)) { Timeout = Timeout.InfiniteTimeSpan };
        _createHttp = httpClient ?? new HttpClient { Timeout = options.Endpoint.Build.AttemptTimeout };
        _api = new OpenAIBatchApi(_apiHttp, _createHttp, options.Endpoint.Endpoint, options.Endpoint.ApiKey);
    }

    /// <summary>
    /// Gets the chat client to build the pipeline over: the synchronous OpenAI client of <see cref="OpenAIBatchOptions.Endpoint"/>
    /// (so each request is exactly what a synchronous build would send), answering from the batches' answers and deferring
    /// (<see cref="RpmCallDeferredException"/>) every request without one. It sends nothing over the network.
    /// </summary>
    public IChatClient ChatClient => _chatClient;

    /// <summary>Gets the full path of the state file.</summary>
    public string StatePath => _state.FullPath;

    /// <summary>
    /// Builds every user's model in waves of batches, resuming from the state file and the pipeline's checkpoints, until
    /// every user is built or has failed.
    /// </summary>
    /// <param name="pipeline">A pipeline over <see cref="ChatClient"/>, with the stores that keep the users' models and build checkpoints (keep both across runs).</param>
    /// <param name="users">The users; ids unique. Users already built by an earlier run with this state file are skipped.</param>
    /// <param name="progress">Told after each wave what its batches answered and what the next wave sends.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests. Submitted batches keep running; answers already read back are kept.</param>
    /// <returns>The users built and failed, and the waves and batches this run took.</returns>
    /// <exception cref="ArgumentException">A user is null or listed twice.</exception>
    /// <exception cref="OpenAIBatchException">The Files or Batches API refused a call (the message names the batch or file and the server's words).</exception>
    /// <exception cref="InvalidOperationException">The state file cannot be used, or <see cref="BuildAsync"/> is already running on this instance.</exception>
    public async Task<BatchBuildResult> BuildAsync(RpmPipeline pipeline, IEnumerable<BatchUser> users, IProgress<BatchWaveProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(users);
        List<BatchUser> all = [.. users];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (BatchUser? user in all)
        {
            if (user is null)
            {
                throw new ArgumentException("The users contain a null entry.", nameof(users));
            }

            if (!seen.Add(user.UserId))
            {
                throw new ArgumentException($"The user '{user.UserId}' is listed twice; each user is built once.", nameof(users));
            }
        }

        if (!await _running.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException("A batch build is already running on this OpenAIBatchBuilder; one state file serves one build at a time.");
        }

        try
        {
            return await RunAsync(pipeline, all, progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _running.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _chatClient.Dispose();
        _replayHttp.Dispose();
        if (_ownsApiHttp)
        {
            _apiHttp.Dispose();
            _createHttp.Dispose();
        }

        _running.Dispose();
    }

    private async Task<BatchBuildResult> RunAsync(RpmPipeline pipeline, List<BatchUser> users, IProgress<BatchWaveProgress>? progress, CancellationToken cancellationToken)
    {
        HashSet<string> built = await _state.GetBuiltUsersAsync(cancellationToken).ConfigureAwait(false);

        // The state file says who was built, the model store whether the model is still there: a user whose model is
        // gone (another store, a deleted file) is built again, from the stored answers, without paying again.
        foreach (BatchUser user in users.Where(u => built.Contains(u.UserId)))
        {
            if (await pipeline.GetUserModelAsync(user.UserId, cancellationToken).ConfigureAwait(false) is null)
            {
                built.Remove(user.UserId);
            }
        }

        var failures = new ConcurrentDictionary<string, Exception>(StringComparer.Ordinal);
        var batchIds = new List<string>();
        int wave = await _state.GetWaveAsync(cancellationToken).ConfigureAwait(false);
        int waves = 0;
        int submitted = 0;
        while (true)
        {
            // Batches in flight first: those of the last wave, or those a stopped process left (polled, never sent again).
            var (answered, unanswered) = await FinishOpenBatchesAsync(batchIds, cancellationToken).ConfigureAwait(false);

            List<BatchUser> remaining = [.. users.Where(u => !built.Contains(u.UserId) && !failures.ContainsKey(u.UserId))];
            var waiting = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            _replay.TakePending();
            await Parallel.ForEachAsync(
                remaining,
                new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentBuilds, CancellationToken = cancellationToken },
                async (user, token) =>
                {
                    BatchReplayHandler.User = user.UserId;
                    try
                    {
                        await pipeline.BuildUserModelAsync(user.UserId, user.Task, user.History, token).ConfigureAwait(false);
                        await _state.MarkBuiltAsync(user.UserId, CancellationToken.None).ConfigureAwait(false);
                        lock (built)
                        {
                            built.Add(user.UserId);
                        }
                    }
                    catch (RpmCallDeferredException)
                    {
                        waiting[user.UserId] = true;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                    {
                        failures[user.UserId] = ex;
                    }
                }).ConfigureAwait(false);

            PendingRequests pending = _replay.TakePending();
            List<PendingRequests.PendingRequest> toSend = await WithinLimitAsync(pending, failures, cancellationToken).ConfigureAwait(false);
            foreach (string user in waiting.Keys.Where(u => !failures.ContainsKey(u) && !toSend.Any(r => r.Users.Contains(u))))
            {
                // Deferred by something other than this builder's client (e.g. another deferring layer): nothing to submit for it.
                failures[user] = new InvalidOperationException(
                    $"The build of '{user}' was deferred, but none of its requests reached the batch client; build the pipeline over {nameof(OpenAIBatchBuilder)}.{nameof(ChatClient)}.");
            }

            var waveBatches = new List<string>();
            if (toSend.Count > 0)
            {
                wave++;
                waves++;
                submitted += toSend.Count;
                waveBatches = await SubmitAsync(wave, toSend, cancellationToken).ConfigureAwait(false);
                batchIds.AddRange(waveBatches);
            }

            progress?.Report(new BatchWaveProgress
            {
                Wave = wave,
                UsersBuilt = users.Count(u => built.Contains(u.UserId)),
                UsersWaiting = waiting.Keys.Count(u => !failures.ContainsKey(u)),
                UsersFailed = failures.Count,
                RequestsAnswered = answered,
                RequestsUnanswered = unanswered,
                RequestsSubmitted = toSend.Count,
                BatchIds = waveBatches,
            });

            if (toSend.Count == 0)
            {
                break;
            }
        }

        return new BatchBuildResult
        {
            BuiltUserIds = [.. users.Where(u => built.Contains(u.UserId)).Select(u => u.UserId)],
            Failures = new Dictionary<string, Exception>(failures, StringComparer.Ordinal),
            Waves = waves,
            BatchIds = batchIds,
            RequestsSubmitted = submitted,
        };
    }

    /// <summary>Keeps the requests that may be sent again; the users of a request unanswered in too many batches fail, naming it.</summary>
    private async Task<List<PendingRequests.PendingRequest>> WithinLimitAsync(PendingRequests pending, ConcurrentDictionary<string, Exception> failures, CancellationToken cancellationToken)
    {
        IReadOnlyList<PendingRequests.PendingRequest> requests = pending.All;
        var history = await _state.GetSubmissionsAsync(requests.Select(r => r.Key), cancellationToken).ConfigureAwait(false);
        foreach (PendingRequests.PendingRequest request in requests)
        {
            var (submissions, lastError, lastBatch) = history[request.Key];
            if (submissions < _options.MaxSubmissions)
            {
                continue;
            }

            foreach (string user in request.Users)
            {
                string stage = request.Stage is { } s ? s.ToString() + " " : string.Empty;
                failures.TryAdd(user, new OpenAIBatchException(
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"The build of '{user}' needs the {stage}request {request.Key}, which went unanswered in {submissions} batches (last: {lastError ?? "no answer"}). Raise OpenAIBatchOptions.MaxSubmissions to try again, or build the user synchronously."))
                {
                    UserId = user,
                    RequestId = request.Key,
                    BatchId = lastBatch,
                });
            }
        }

        return [.. requests.Where(r => history[r.Key].Submissions < _options.MaxSubmissions && (r.Users.Count == 0 || r.Users.Any(u => !failures.ContainsKey(u))))];
    }

    /// <summary>Splits a wave into batches within OpenAI's limits, uploads each input file, notes it, then creates its batch and notes the id.</summary>
    private async Task<List<string>> SubmitAsync(int wave, List<PendingRequests.PendingRequest> requests, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        int part = 0;
        foreach (var (lines, keys) in Split(requests))
        {
            part++;
            string fileName = string.Create(CultureInfo.InvariantCulture, $"rpm-wave-{wave}-part-{part}.jsonl");
            string fileId = await _api.UploadAsync(lines, fileName, cancellationToken).ConfigureAwait(false);
            await _state.AddUploadAsync(fileId, wave, keys, CancellationToken.None).ConfigureAwait(false);

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
            catch (OpenAIBatchException ex) when (ex.StatusCode is >= 400 and < 500)
            {
                // Refused outright: no batch exists. Its requests count this submission and go again in the next wave, so
                // a refusal that persists ends, after MaxSubmissions, in per-user errors that carry the server's words.
                await _state.SaveResultsAsync(null, new Dictionary<string, string>(), keys.ToDictionary(k => k, _ => ex.Message, StringComparer.Ordinal), CancellationToken.None).ConfigureAwait(false);
                await _state.FinishBatchAsync(fileId, "rejected", CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            await _state.SetBatchAsync(fileId, batch.Id, CancellationToken.None).ConfigureAwait(false);
            ids.Add(batch.Id);
        }

        return ids;
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
