using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Rpm;

/// <summary>
/// Builds many users' models through OpenAI's Batch API, at half the synchronous price. Build a pipeline over
/// <see cref="ChatClient"/> and hand it, with a stream of users, to <see cref="BuildAsync(RpmPipeline, IAsyncEnumerable{BatchUser}, IProgress{BatchWaveProgress}?, CancellationToken)"/>: up to
/// <see cref="OpenAIBatchOptions.MaxUsersInMemory"/> users at a time, every user's build runs against the answers batches
/// have returned so far; the calls with no answer yet are collected (every user's features first, then every user's
/// factors, then every reasoning path, and repair turns as they come), submitted as one batch per wave, polled until the
/// batch ends, and read back into the state file; then the builds run again and resume from their checkpoints, until
/// every user's model is saved.
/// </summary>
/// <remarks>
/// Every answer a batch returned is kept in <see cref="OpenAIBatchOptions.StatePath"/>, keyed by the exact request body
/// the synchronous client would send, so no request is paid twice, until every user who asked for it is built (then it
/// is dropped and the file shrinks, unless <see cref="OpenAIBatchOptions.KeepAnswersForAudit"/>); the batches in flight are kept there too, so a process
/// stopped while a batch runs polls that batch when started again instead of submitting it again. Cancelling
/// <see cref="BuildAsync(RpmPipeline, IAsyncEnumerable{BatchUser}, IProgress{BatchWaveProgress}?, CancellationToken)"/> does not cancel a submitted batch: it keeps running at OpenAI, and the next run reads it back.
/// </remarks>
public sealed partial class OpenAIBatchBuilder : IDisposable
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
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _running = new(1, 1);

    /// <summary>Initializes a new instance of the <see cref="OpenAIBatchBuilder"/> class.</summary>
    /// <param name="options">The endpoint, the state file and the limits; validated here.</param>
    /// <param name="httpClient">
    /// The HTTP client for the Files and Batches calls; <see langword="null"/> to create one with
    /// <see cref="EndpointResilience"/>'s build profile from <see cref="OpenAIBatchOptions.Endpoint"/> (and one without retries for batch
    /// creations). Not disposed here when given. A given client should not retry POSTs blindly: a batch creation whose
    /// answer is lost is looked up by its input file before it is created again, but a transport retry would not be.
    /// Its 429s are waited out by the builder (<c>Retry-After</c>, within the build profile's limits).
    /// </param>
    /// <param name="loggerFactory">
    /// Where the build logs (category <c>Rpm.OpenAIBatchBuilder</c>): each poll of a batch still running (event 7001), a
    /// batch cancelled for its age (7002, 7003), requests waiting out an enqueued-token limit (7004), a 429 waited out
    /// (7005), and the Files and Batches calls' retries (5001); <see langword="null"/> for nowhere.
    /// </param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public OpenAIBatchBuilder(OpenAIBatchOptions options, HttpClient? httpClient = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<OpenAIBatchBuilder>();
        _state = new BatchStateStore(options.StatePath);
        _replay = new BatchReplayHandler(_state);
        _replayHttp = new HttpClient(_replay) { Timeout = Timeout.InfiniteTimeSpan };
        _chatClient = RpmOpenAI.CreateChatClient(options.Endpoint, _replayHttp);
        _ownsApiHttp = httpClient is null;
        // Files and Batches calls are background work wherever they are made: always the patient build profile.
        _apiHttp = httpClient ?? new HttpClient(EndpointResilience.CreateHandler(options.Endpoint, loggerFactory: loggerFactory, profile: EndpointRetryProfile.Build)) { Timeout = Timeout.InfiniteTimeSpan };
        _createHttp = httpClient ?? new HttpClient { Timeout = options.Endpoint.Build.AttemptTimeout };
        _api = new OpenAIBatchApi(
            _apiHttp, _createHttp, httpRetriesRateLimits: _ownsApiHttp, options.Endpoint.Endpoint, options.Endpoint.ApiKey, options.Endpoint.Build, options.TimeProvider, _logger);
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
    /// every user is built or has failed. The list is checked whole first, then built as a stream
    /// (<see cref="BuildAsync(RpmPipeline, IAsyncEnumerable{BatchUser}, IProgress{BatchWaveProgress}?, CancellationToken)"/>):
    /// at most <see cref="OpenAIBatchOptions.MaxUsersInMemory"/> users are built at once.
    /// </summary>
    /// <param name="pipeline">A pipeline over <see cref="ChatClient"/>, with the stores that keep the users' models and build checkpoints (keep both across runs).</param>
    /// <param name="users">The users; ids unique. Users already built by an earlier run with this state file are skipped.</param>
    /// <param name="progress">
    /// Told after each wave what its batches answered and what the next wave sends; and, at each poll that finds a batch
    /// still running, its status, request counts and age (<see cref="BatchWaveProgress.Polled"/>).
    /// </param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests. Submitted batches keep running; answers already read back are kept.</param>
    /// <returns>The users built and failed, the waves and batches this run took, and the batches it cancelled for their age.</returns>
    /// <exception cref="ArgumentException">A user is null or listed twice (checked before anything is sent).</exception>
    /// <exception cref="OpenAIBatchException">The Files or Batches API refused a call (the message names the batch or file and the server's words).</exception>
    /// <exception cref="InvalidOperationException">The state file cannot be used, or <see cref="BuildAsync(RpmPipeline, IEnumerable{BatchUser}, IProgress{BatchWaveProgress}?, CancellationToken)"/> is already running on this instance.</exception>
    public Task<BatchBuildResult> BuildAsync(RpmPipeline pipeline, IEnumerable<BatchUser> users, IProgress<BatchWaveProgress>? progress = null, CancellationToken cancellationToken = default)
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

        return BuildAsync(pipeline, all.ToAsyncEnumerable(), progress, cancellationToken);
    }

    /// <summary>
    /// Builds the models of a stream of users in waves of batches, holding at most
    /// <see cref="OpenAIBatchOptions.MaxUsersInMemory"/> of them at once: the window is filled from the stream, its users'
    /// calls go out in waves, and each user built (its model saved) or failed leaves the window and is replaced by the
    /// stream's next one, so memory follows the window, not the stream's length. Resumes from the state file and the
    /// pipeline's checkpoints: a re-run with the same state file and the same stream skips the users built and pays for
    /// no answer it has.
    /// </summary>
    /// <param name="pipeline">A pipeline over <see cref="ChatClient"/>, with the stores that keep the users' models and build checkpoints (keep both across runs).</param>
    /// <param name="users">
    /// The users, read once and in order, each only when the window has room; ids unique. Users already built by an
    /// earlier run with this state file (and whose model is still in the pipeline's store) are skipped. Only each user's
    /// id is kept after the user leaves the window (for the duplicate check and <see cref="BatchBuildResult.BuiltUserIds"/>).
    /// </param>
    /// <param name="progress">
    /// Told after each wave what its batches answered and what the next wave sends; and, at each poll that finds a batch
    /// still running, its status, request counts and age (<see cref="BatchWaveProgress.Polled"/>).
    /// </param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests (also passed to the stream). Submitted batches keep running; answers already read back are kept.</param>
    /// <returns>The users built and failed, the waves and batches this run took, and the batches it cancelled for their age.</returns>
    /// <exception cref="ArgumentException">
    /// The stream gives a null user or a user twice; thrown when it is read, so earlier users may already be built (a
    /// re-run with the stream corrected resumes from them).
    /// </exception>
    /// <exception cref="OpenAIBatchException">The Files or Batches API refused a call (the message names the batch or file and the server's words).</exception>
    /// <exception cref="InvalidOperationException">The state file cannot be used, or a build is already running on this instance.</exception>
    public async Task<BatchBuildResult> BuildAsync(RpmPipeline pipeline, IAsyncEnumerable<BatchUser> users, IProgress<BatchWaveProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(users);
        if (!await _running.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException("A batch build is already running on this OpenAIBatchBuilder; one state file serves one build at a time.");
        }

        try
        {
            return await RunAsync(pipeline, users, progress, cancellationToken).ConfigureAwait(false);
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

    private async Task<BatchBuildResult> RunAsync(RpmPipeline pipeline, IAsyncEnumerable<BatchUser> users, IProgress<BatchWaveProgress>? progress, CancellationToken cancellationToken)
    {
        await using IAsyncEnumerator<BatchUser> source = users.GetAsyncEnumerator(cancellationToken);
        var window = new BatchUserWindow(source, _options.MaxUsersInMemory);
        _replay.ForgetUsed();

        var failures = new ConcurrentDictionary<string, Exception>(StringComparer.Ordinal);
        var batchIds = new List<string>();
        int wave = await _state.GetWaveAsync(cancellationToken).ConfigureAwait(false);
        int waves = 0;
        int submitted = 0;
        var timedOut = new List<string>();
        BatchWaveProgress? last = null;
        TimeProvider time = _options.TimeProvider;

        // Rounds in a row refused by a limit that asks for patience, with no batch ending to free the queue, and since when.
        int limitedRounds = 0;
        DateTimeOffset? limitedSince = null;
        int creationLimited = 0;
        while (true)
        {
            // A refusal for a full queue gives its submission back only for MaxBatchWait in a row: a batch larger than the
            // organization's whole queue would otherwise be refused, and waited for, without end.
            bool refundLimited = limitedSince is not { } since || time.GetUtcNow() - since < _options.MaxBatchWait;

            // Batches in flight first: those of the last wave, or those a stopped process left (polled, never sent again).
            IntakeRound round = await FinishOpenBatchesAsync(
                batchIds,
                timedOut,
                refundLimited,
                (info, age) => progress?.Report(new BatchWaveProgress
                {
                    Wave = wave,
                    UsersBuilt = window.BuiltCount,
                    UsersWaiting = last?.UsersWaiting ?? 0,
                    UsersFailed = failures.Count,
                    RequestsAnswered = 0,
                    RequestsUnanswered = 0,
                    RequestsSubmitted = 0,
                    BatchIds = [info.Id],
                    Polled = new BatchPollStatus
                    {
                        BatchId = info.Id,
                        Status = info.Status,
                        RequestsCompleted = info.RequestsCompleted,
                        RequestsFailed = info.RequestsFailed,
                        RequestsTotal = info.RequestsTotal,
                        Age = age,
                    },
                }),
                cancellationToken).ConfigureAwait(false);
            var (answered, unanswered) = (round.Answered, round.Unanswered);
            int limitedRequests = round.LimitedRequests + creationLimited;
            if (limitedRequests == 0 || round.Freed)
            {
                // Nothing refused, or a batch ended and its tokens left the queue: what was refused may go at once.
                limitedRounds = 0;
                limitedSince = limitedRequests == 0 ? null : time.GetUtcNow();
            }
            else
            {
                limitedRounds++;
                limitedSince ??= time.GetUtcNow();
            }

            // The window takes the stream's next users as earlier ones left it. The state file says who was built, the
            // model store whether the model is still there: a user whose model is gone (another store, a deleted file) is
            // built again, from the stored answers when they were kept (KeepAnswersForAudit), else by paying again.
            await window.FillAsync(
                async (user, token) => await _state.IsBuiltAsync(user.UserId, token).ConfigureAwait(false)
                    && await pipeline.GetUserModelAsync(user.UserId, token).ConfigureAwait(false) is not null,
                cancellationToken).ConfigureAwait(false);

            var built = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            var waiting = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            _replay.TakePending();
            await Parallel.ForEachAsync(
                window.Users,
                new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentBuilds, CancellationToken = cancellationToken },
                async (user, token) =>
                {
                    BatchReplayHandler.User = user.UserId;
                    try
                    {
                        await pipeline.BuildUserModelAsync(user.UserId, user.Task, user.History, token).ConfigureAwait(false);
                        await _state.MarkBuiltAsync(user.UserId, CancellationToken.None).ConfigureAwait(false);
                        built[user.UserId] = true;
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

            await LeaveWindowAsync(window, built, failures, CancellationToken.None).ConfigureAwait(false);

            var waveBatches = new List<string>();
            creationLimited = 0;
            if (toSend.Count > 0)
            {
                if (limitedRounds > 0)
                {
                    TimeSpan delay = OpenAIBatchApi.Backoff(limitedRounds, _options.TokenLimitRetryDelay, _options.TokenLimitMaxRetryDelay);
                    OpenAIBatchLog.QueueFull(_logger, limitedRequests, round.LimitReason ?? "batch creation answered 429", delay, limitedRounds);
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }

                wave++;
                waves++;
                submitted += toSend.Count;
                (waveBatches, creationLimited) = await SubmitAsync(wave, toSend, refundLimited, cancellationToken).ConfigureAwait(false);
                batchIds.AddRange(waveBatches);
            }
            else if (!window.Exhausted && window.Users.Count == 0)
            {
                // Every user of the window was built from answers already kept: take the next ones before reporting.
                continue;
            }

            last = new BatchWaveProgress
            {
                Wave = wave,
                UsersBuilt = window.BuiltCount,
                UsersWaiting = waiting.Keys.Count(u => !failures.ContainsKey(u)),
                UsersFailed = failures.Count,
                RequestsAnswered = answered,
                RequestsUnanswered = unanswered,
                RequestsSubmitted = toSend.Count,
                BatchIds = waveBatches,
            };
            progress?.Report(last);

            if (toSend.Count == 0)
            {
                break;
            }
        }

        // The write-ahead log is copied into the file and emptied: between runs the file alone is the state.
        await _state.CheckpointAsync(CancellationToken.None).ConfigureAwait(false);
        return new BatchBuildResult
        {
            BuiltUserIds = window.BuiltUserIds(),
            Failures = new Dictionary<string, Exception>(failures, StringComparer.Ordinal),
            Waves = waves,
            BatchIds = batchIds,
            TimedOutBatchIds = timedOut,
            RequestsSubmitted = submitted,
        };
    }

    /// <summary>
    /// Takes the users built or failed this round out of the window; unless answers are kept for audit, drops from the
    /// state file the answers only built users asked for (a failed user's stay, for a synchronous build to replay).
    /// </summary>
    private async Task LeaveWindowAsync(BatchUserWindow window, ConcurrentDictionary<string, bool> built, ConcurrentDictionary<string, Exception> failures, CancellationToken cancellationToken)
    {
        List<string> leaving = [.. window.Users.Select(u => u.UserId).Where(u => built.ContainsKey(u) || failures.ContainsKey(u))];
        if (leaving.Count == 0)
        {
            return;
        }

        var (left, staying) = _replay.TakeUsed(leaving);
        var asked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (user, keys) in left)
        {
            (built.ContainsKey(user) ? asked : staying).UnionWith(keys);
        }

        await _state.CompactAsync([.. leaving.Where(built.ContainsKey)], asked, staying, dropAnswers: !_options.KeepAnswersForAudit, cancellationToken).ConfigureAwait(false);
        window.Remove(u => built.ContainsKey(u));
        window.Remove(failures.ContainsKey, built: false);
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
}
