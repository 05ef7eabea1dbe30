using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;

namespace Rpm.Evaluation;

/// <summary>
/// Runs methods over the users of a data set with a concurrency limit and reports progress. Every model call goes
/// through three layers: a meter per method, user and phase (build or query); the answer cache
/// (<see cref="EvaluationRunnerOptions.CachePath"/>, keyed by method scope, model and prompt); and a meter of what is actually
/// sent to the endpoint, which counts tokens with the tokenizer when the endpoint reports none. A repeated or
/// resumed run therefore answers from the cache and pays only for what is missing.
/// </summary>
public sealed class EvaluationRunner
{
    private readonly EvaluationRunnerOptions _options;

    /// <summary>Initializes a new instance of the <see cref="EvaluationRunner"/> class.</summary>
    /// <param name="options">The options, or <see langword="null"/> for the defaults; validated here.</param>
    public EvaluationRunner(EvaluationRunnerOptions? options = null)
    {
        _options = options ?? new EvaluationRunnerOptions();
        _options.Validate();
    }

    /// <summary>Runs the methods over every user of the data set.</summary>
    /// <param name="dataset">The data set.</param>
    /// <param name="methods">The methods, in report order; names must be distinct.</param>
    /// <param name="chatClient">The chat model, or <see langword="null"/> when none is reachable (model methods are then skipped).</param>
    /// <param name="embeddingGenerator">The embedding generator shared by every method, or <see langword="null"/>.</param>
    /// <param name="progress">Receives progress after every (user, method) step; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests; answers received so far stay in the cache.</param>
    /// <returns>The result.</returns>
    public async Task<EvaluationResult> RunAsync(
        EvaluationDataset dataset,
        IReadOnlyList<IEvaluationMethod> methods,
        IChatClient? chatClient,
        IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator,
        IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(methods);
        if (methods.Select(m => m.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() != methods.Count)
        {
            throw new ArgumentException("Method names must be distinct.", nameof(methods));
        }

        var skipped = new List<SkippedMethod>();
        var runnable = new List<IEvaluationMethod>();
        foreach (IEvaluationMethod method in methods)
        {
            // Why a method cannot run on this data outranks a missing model: a model would not make it run.
            string? reason = method.CheckApplicable(dataset) ?? (method.RequiresChatModel && chatClient is null ? _options.ChatModelUnavailableReason : null);
            if (reason is not null)
            {
                skipped.Add(new SkippedMethod(method.Name, reason));
            }
            else
            {
                runnable.Add(method);
            }
        }

        long start = _options.TimeProvider.GetTimestamp();

        // Each distinct text is embedded once per run: methods and passes share one cache in front of the generator
        // (Microsoft.Extensions.AI's caching middleware; in memory unless the options give a persistent cache).
        // The layer is not disposed here: disposing it would dispose the caller's generator.
        if (embeddingGenerator is not null && _options.CacheEmbeddings)
        {
            IDistributedCache cache = _options.EmbeddingCache ?? new MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new MemoryDistributedCacheOptions()));
            embeddingGenerator = embeddingGenerator.AsBuilder().UseDistributedCache(cache).Build();
        }

        var endpointMeter = new UsageMeter();
        await using SqliteResponseStore? store = _options.CachePath is null || chatClient is null
            ? null
            : await _options.OpenAnswerCache(_options.CachePath, cancellationToken).ConfigureAwait(false);
        IChatClient? endpoint = chatClient?.AsBuilder().UseUsageMetering(_options.Tokenizer, endpointMeter).Build();
        var scoped = new ConcurrentDictionary<string, IChatClient>(StringComparer.Ordinal);
        IChatClient? ScopeClient(string scope) => endpoint is null ? null
            : store is null ? endpoint
            : scoped.GetOrAdd(scope, s => endpoint.AsBuilder().UseAnswerCache(store, s, _options.ModelId).Build());

        var states = runnable.ToDictionary(m => m.Name, _ => new MethodState(), StringComparer.Ordinal);
        var allMeter = new UsageMeter();
        int usersDone = 0, stepsDone = 0;
        List<IDatasetPreparedMethod> datasetPrepared = [.. runnable.OfType<IDatasetPreparedMethod>()];

        // A method's pass over every user counts as one more step per user, so the progress line moves during it.
        int stepsTotal = dataset.Users.Count * (runnable.Count + datasetPrepared.Count);
        var queryOrder = dataset.Users.SelectMany(u => u.Queries).Select((q, i) => (q.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);

        void Report()
        {
            if (progress is null)
            {
                return;
            }

            TimeSpan elapsed = _options.TimeProvider.GetElapsedTime(start);
            int done = Volatile.Read(ref stepsDone);
            TimeSpan? remaining = done == 0 ? null : TimeSpan.FromTicks((long)(elapsed.Ticks * (double)(stepsTotal - done) / done));
            progress.Report(new EvaluationProgress(Volatile.Read(ref usersDone), dataset.Users.Count, done, stepsTotal, allMeter.Snapshot(), endpointMeter.Snapshot().Calls, elapsed, remaining));
        }

        Report();

        // Methods that choose parameters across users (by cross-validation over people) see every user first.
        foreach (IDatasetPreparedMethod method in datasetPrepared)
        {
            try
            {
                await method.PrepareDatasetAsync(DatasetContext(dataset, embeddingGenerator), dataset, UserPrepared, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested) && StorageWriteException.Find(ex) is null)
            {
                IEvaluationMethod failed = (IEvaluationMethod)method;
                runnable.Remove(failed);
                skipped.Add(new SkippedMethod(failed.Name, $"its preparation over all users failed: {Describe(ex)}"));
                stepsTotal -= dataset.Users.Count;
            }
        }

        void UserPrepared()
        {
            Interlocked.Increment(ref stepsDone);
            Report();
        }

        try
        {
            await Parallel.ForEachAsync(
                dataset.Users,
                new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrency, CancellationToken = cancellationToken },
                async (user, ct) =>
                {
                    foreach (IEvaluationMethod method in runnable)
                    {
                        await RunUserAsync(dataset, method, user, ScopeClient(method.CacheScope), embeddingGenerator, states[method.Name], allMeter, queryOrder, ct).ConfigureAwait(false);
                        Interlocked.Increment(ref stepsDone);
                        Report();
                    }

                    Interlocked.Increment(ref usersDone);
                    Report();
                }).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageWriteException.Find(ex) is StorageWriteException failure && store is not null)
        {
            // A failed write stops the run (Parallel.ForEachAsync cancels the other users): going on would pay for answers
            // that cannot be kept. Counted once every user has stopped, so that the numbers are final.
            throw failure.WithCounts(store.SavedThisRun, store.FailedWrites);
        }

        var golds = new LampOutputs(dataset.Name, [.. dataset.Users.SelectMany(u => u.Queries).Select(q => new KeyValuePair<string, string>(q.Id, q.Gold))]);
        var optionsById = dataset.Users.SelectMany(u => u.Queries).Where(q => q.Options is { Count: > 0 }).ToDictionary(q => q.Id, q => q.Options!, StringComparer.Ordinal);
        string[] goldAnswers = [.. golds.Items.Select(g => g.Value)];
        IReadOnlyList<string>?[]? queryOptions = optionsById.Count == 0 ? null : [.. golds.Items.Select(g => optionsById.GetValueOrDefault(g.Key))];
        var results = new List<MethodResult>();
        foreach (IEvaluationMethod method in runnable)
        {
            MethodState state = states[method.Name];
            var predictions = new LampOutputs(dataset.Name, [.. golds.Items.Select(g => new KeyValuePair<string, string>(g.Key, state.Answers.GetValueOrDefault(g.Key, string.Empty)))]);
            QueryExplanation[] explanations = [.. state.Explanations.OrderBy(e => queryOrder[e.QueryId]).Take(_options.ExplainedQueries)];
            results.Add(new MethodResult
            {
                Name = method.Name,
                Description = method.Description,
                UsesChatModel = method.RequiresChatModel,
                Predictions = predictions,
                Metrics = LampMetrics.Score(dataset.Task, golds, predictions, optionsById),
                BuildUsage = state.Build.Snapshot(),
                QueryUsage = state.Query.Snapshot(),
                Users = dataset.Users.Count,
                Queries = golds.Items.Count,
                FailedQueries = state.FailedQueries,
                Failures = [.. state.Failures.OrderBy(f => f.UserId, StringComparer.Ordinal).ThenBy(f => f.QueryId, StringComparer.Ordinal)],
                Explanations = explanations,
                Intervals = _options.BootstrapResamples == 0
                    ? new Dictionary<string, ConfidenceInterval>()
                    : MetricBootstrap.ComputeIntervals(dataset.Task, goldAnswers, [.. predictions.Items.Select(p => p.Value)], queryOptions, _options.BootstrapResamples, _options.BootstrapSeed),
                Tuning = (method as IDatasetPreparedMethod)?.Tuning,
                NonPaperPaths = state.Builds.IsEmpty ? null : BuildTotals.Of(state.Builds) with { Rationales = state.Rationales, UngroundedRationales = state.UngroundedRationales },
                BuildDiagnostics = state.Builds.IsEmpty ? null : state.Builds.OrderBy(b => b.Model.UserId, StringComparer.Ordinal).Aggregate(BuildDiagnostics.None, (sum, b) => sum + b.Model.Diagnostics),
                UserModels = [.. explanations.Select(e => e.UserId).Distinct(StringComparer.Ordinal).Take(_options.ExplainedUsers)
                    .Select(id => state.Models.GetValueOrDefault(id)).OfType<UserModel>()],
            });
        }

        List<PairedDifference> comparisons = _options.BootstrapResamples == 0 ? [] : Compare(dataset.Task, goldAnswers, queryOptions, results);

        return new EvaluationResult
        {
            Dataset = dataset.Name,
            Task = dataset.Task,
            ModelId = chatClient is null ? "(none)" : _options.ModelId,
            Users = dataset.Users.Count,
            People = dataset.PersonCount,
            Queries = golds.Items.Count,
            Golds = golds,
            Methods = results,
            Skipped = skipped,
            Spent = endpointMeter.Snapshot(),
            Prices = _options.Prices,
            Elapsed = _options.TimeProvider.GetElapsedTime(start),
            RetrievalCount = _options.RetrievalCount,
            BatchSize = _options.BatchSize,
            Comparisons = comparisons,
        };
    }

    // Per metric, RPM against the best method on that metric that is not a form of RPM, on the same queries.
    private List<PairedDifference> Compare(RpmTask task, string[] golds, IReadOnlyList<string>?[]? options, List<MethodResult> results)
    {
        MethodResult? rpm = results.FirstOrDefault(m => m.Name == "rpm");
        List<MethodResult> others = [.. results.Where(m => !m.Name.StartsWith("rpm", StringComparison.OrdinalIgnoreCase))];
        var comparisons = new List<PairedDifference>();
        if (rpm is null || others.Count == 0)
        {
            return comparisons;
        }

        // One paired bootstrap per baseline (it covers every metric); each metric keeps the one against its own best.
        IReadOnlyList<string> metrics = LampMetrics.For(task.Kind);
        var bestFor = metrics.ToDictionary(
            metric => metric,
            metric => MetricSet.LowerIsBetter(metric) ? others.MinBy(m => m.Metrics.Values[metric])! : others.MaxBy(m => m.Metrics.Values[metric])!,
            StringComparer.Ordinal);
        var byBaseline = bestFor.Values.Distinct().ToDictionary(
            best => best.Name,
            best => MetricBootstrap.CompareMethods(
                task, golds, (rpm.Name, [.. rpm.Predictions.Items.Select(p => p.Value)]), (best.Name, [.. best.Predictions.Items.Select(p => p.Value)]),
                options, _options.BootstrapResamples, _options.BootstrapSeed),
            StringComparer.Ordinal);
        comparisons.AddRange(metrics.Select(metric => byBaseline[bestFor[metric].Name].Single(d => d.Metric == metric)));
        return comparisons;
    }

    private MethodContext DatasetContext(EvaluationDataset dataset, IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator) => new()
    {
        Task = dataset.Task,
        EmbeddingGenerator = embeddingGenerator,
        RetrievalCount = _options.RetrievalCount,
        Tokenizer = _options.Tokenizer,
        MaxConcurrency = _options.MaxConcurrency,
        BatchSize = _options.BatchSize,
    };

    private async Task RunUserAsync(
        EvaluationDataset dataset, IEvaluationMethod method, EvaluationUser user, IChatClient? scopeClient,
        IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator, MethodState state, UsageMeter allMeter,
        Dictionary<string, int> queryOrder, CancellationToken cancellationToken)
    {
        MethodContext Context(UsageMeter meter) => new()
        {
            Task = dataset.Task,
            ChatClient = scopeClient?.AsBuilder().UseUsageMetering(null, meter, allMeter).Build(),
            EmbeddingGenerator = embeddingGenerator,
            RetrievalCount = _options.RetrievalCount,
            ChatOptions = _options.ChatOptions,
            Tokenizer = _options.Tokenizer,
            MaxConcurrency = _options.MaxConcurrency,
            BatchSize = _options.BatchSize,
            UseJsonSchemaResponseFormat = _options.UseJsonSchemaResponseFormat,
            UseStrictJsonSchema = _options.UseStrictJsonSchema,
        };

        object? prepared;
        try
        {
            prepared = await method.PrepareUserAsync(Context(state.Build), user, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when ((ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested) && StorageWriteException.Find(ex) is null)
        {
            state.Failures.Add(new MethodFailure(user.Id, null, Describe(ex)));
            foreach (EvaluationQuery query in user.Queries)
            {
                state.Answers[query.Id] = string.Empty;
                Interlocked.Increment(ref state.FailedQueries);
            }

            return;
        }

        // Every built model counts in the method's totals of where the build left the paper's path.
        if ((prepared as UserModel ?? (prepared as IUserModelState)?.Model) is UserModel built)
        {
            state.Builds.Add((built, user.History.Count));
        }

        if (prepared is UserModel model && user.Queries.Count > 0 && queryOrder[user.Queries[0].Id] < _options.ExplainedQueries * 4)
        {
            state.Models[user.Id] = model;
        }

        foreach (EvaluationQuery query in user.Queries)
        {
            MethodAnswer answer;
            try
            {
                answer = await method.AnswerAsync(Context(state.Query), user, prepared, query, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested) && StorageWriteException.Find(ex) is null)
            {
                state.Failures.Add(new MethodFailure(user.Id, query.Id, Describe(ex)));
                state.Answers[query.Id] = string.Empty;
                Interlocked.Increment(ref state.FailedQueries);
                continue;
            }

            state.Answers[query.Id] = answer.Answer;
            if (answer.IsGrounded is bool grounded)
            {
                Interlocked.Increment(ref state.Rationales);
                if (!grounded)
                {
                    Interlocked.Increment(ref state.UngroundedRationales);
                }
            }
            if (queryOrder[query.Id] < _options.ExplainedQueries * 4 || state.Explanations.Count < _options.ExplainedQueries)
            {
                state.Explanations.Add(new QueryExplanation(user.Id, query.Id, query.Input, query.Gold, answer.Answer, answer.IsValid, answer.Rationale ?? answer.Error, answer.QueryFeatures, answer.Examples));
            }
        }
    }

    private static string Describe(Exception ex) => ex.InnerException is null || ex.Message.Contains(ex.InnerException.Message, StringComparison.Ordinal)
        ? ex.Message
        : $"{ex.Message} ({ex.InnerException.Message})";

    private sealed class MethodState
    {
#pragma warning disable SA1401, CA1051 // A counter updated with Interlocked needs a field.
        public int FailedQueries;
        public int Rationales;
        public int UngroundedRationales;
#pragma warning restore SA1401, CA1051

        public UsageMeter Build { get; } = new();

        public UsageMeter Query { get; } = new();

        public ConcurrentDictionary<string, string> Answers { get; } = new(StringComparer.Ordinal);

        public ConcurrentBag<MethodFailure> Failures { get; } = [];

        public ConcurrentBag<QueryExplanation> Explanations { get; } = [];

        public ConcurrentDictionary<string, UserModel> Models { get; } = new(StringComparer.Ordinal);

        public ConcurrentBag<(UserModel Model, int HistoryItems)> Builds { get; } = [];
    }
}
