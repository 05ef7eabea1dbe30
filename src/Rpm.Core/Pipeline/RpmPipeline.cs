using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>
/// Personalizes a chat model for each user at the level of reasoning (RPM, arXiv 2505.21082): builds a user model
/// from the user's history, then answers new queries guided by the user's most similar past reasoning.
/// </summary>
/// <remarks>
/// A build of N history items costs 2N + 1 model calls (features per item, factors once, a reasoning path per item;
/// generation tasks add ⌈N / <see cref="RpmOptions.InfluenceJudgmentBatchSize"/>⌉ influence judgments),
/// run up to <see cref="RpmOptions.MaxConcurrency"/> at a time; a response costs 2 calls. The type is thread-safe.
/// </remarks>
public sealed partial class RpmPipeline
{
    private readonly IUserModelStore _store;
    private readonly RpmOptions _options;
    private readonly UserModelBuilder _builder;
    private readonly QueryResponder _responder;
    private readonly Personalizer _personalizer;
    private readonly UserModelCache _models;
    private readonly TurnPersonalizer _turns;

    /// <summary>Initializes a new instance of the <see cref="RpmPipeline"/> class with the default stages, in-memory stores and the given models.</summary>
    /// <param name="chatClient">The chat model.</param>
    /// <param name="embeddingGenerator">The embedding model for feature retrieval.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where log events go (see the README's Telemetry section); <see langword="null"/> for none.</param>
    /// <param name="meterFactory">Creates the meter <see cref="RpmTelemetry.MeterName"/>; <see langword="null"/> for a shared static meter.</param>
    public RpmPipeline(IChatClient chatClient, IEmbeddingGenerator<string, Embedding<float>> embeddingGenerator, RpmOptions? options = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
        : this(chatClient, embeddingGenerator, new InMemoryUserModelStore(), new InMemoryBuildCheckpointStore(), options ?? new RpmOptions(), loggerFactory, meterFactory)
    {
    }

    private RpmPipeline(
        IChatClient chatClient, IEmbeddingGenerator<string, Embedding<float>> embeddingGenerator, IUserModelStore store, IBuildCheckpointStore checkpoints, RpmOptions options, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
        : this(
            chatClient,
            new FeatureExtractor(chatClient, options, loggerFactory, meterFactory),
            new FactorConstructor(chatClient, options, loggerFactory, meterFactory),
            new StatisticsBuilder(),
            new ReasoningPathBuilder(chatClient, options, loggerFactory, meterFactory),
            new FeatureRetriever(embeddingGenerator, options),
            store,
            checkpoints,
            options,
            new InfluenceJudge(chatClient, options, loggerFactory, meterFactory),
            loggerFactory,
            meterFactory)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RpmPipeline"/> class from its stages.</summary>
    /// <param name="chatClient">The chat model, used for the final generation stage.</param>
    /// <param name="featureExtractor">Stages 1 and 5.</param>
    /// <param name="factorConstructor">Stage 2.</param>
    /// <param name="statisticsBuilder">Stage 3.</param>
    /// <param name="reasoningPathBuilder">Stage 4.</param>
    /// <param name="retriever">Stage 6 (and the embeddings of the reasoning memory).</param>
    /// <param name="store">Where built user models are kept.</param>
    /// <param name="checkpoints">Where a build in progress keeps finished calls.</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="influenceJudge">Stage 3's model judgments for generation tasks, or <see langword="null"/> for the default <see cref="InfluenceJudge"/> over <paramref name="chatClient"/>.</param>
    /// <param name="loggerFactory">Where log events go (see the README's Telemetry section); <see langword="null"/> for none.</param>
    /// <param name="meterFactory">Creates the meter <see cref="RpmTelemetry.MeterName"/>; <see langword="null"/> for a shared static meter.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public RpmPipeline(
        IChatClient chatClient,
        IFeatureExtractor featureExtractor,
        IFactorConstructor factorConstructor,
        IStatisticsBuilder statisticsBuilder,
        IReasoningPathBuilder reasoningPathBuilder,
        IFeatureRetriever retriever,
        IUserModelStore store,
        IBuildCheckpointStore checkpoints,
        RpmOptions options,
        IInfluenceJudge? influenceJudge = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(featureExtractor);
        ArgumentNullException.ThrowIfNull(factorConstructor);
        ArgumentNullException.ThrowIfNull(statisticsBuilder);
        ArgumentNullException.ThrowIfNull(reasoningPathBuilder);
        ArgumentNullException.ThrowIfNull(retriever);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(checkpoints);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _store = store;
        _checkpoints = checkpoints;
        _options = options;
        string? chatModelId = options.ChatOptions?.ModelId ?? chatClient.GetService<ChatClientMetadata>()?.DefaultModelId;
        var telemetry = new PipelineTelemetry(options, loggerFactory, meterFactory);
        _builder = new UserModelBuilder(
            featureExtractor,
            factorConstructor,
            statisticsBuilder,
            reasoningPathBuilder,
            influenceJudge ?? new InfluenceJudge(chatClient, options, loggerFactory, meterFactory),
            retriever,
            store,
            checkpoints,
            options,
            chatModelId,
            telemetry);
        _responder = new QueryResponder(featureExtractor, retriever, new ResponseGenerator(chatClient, options, loggerFactory, meterFactory), options, telemetry);
        _personalizer = new Personalizer(featureExtractor, retriever, options, telemetry);
        _models = new UserModelCache(store, options);
        _turns = new TurnPersonalizer(_personalizer, _models, options, telemetry);
    }

    private static readonly RpmPersonalizationOptions DefaultTurn = new();

    /// <summary>Gets the options.</summary>
    public RpmOptions Options => _options;

    /// <summary>Gets the store where built user models are kept.</summary>
    internal IUserModelStore Store => _store;

    /// <summary>
    /// Builds (or rebuilds) a user's model from the user's history and saves it: features per item, factors over all
    /// features, factor statistics, a reasoning path per item, and the embeddings of each item's feature text.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="task">The task the history belongs to.</param>
    /// <param name="history">The history; item ids unique, outputs valid for the task.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The saved user model.</returns>
    /// <remarks>
    /// Every finished model call is checkpointed: running the build again after a crash, a cancellation or a model
    /// outage resumes and repeats no call that already succeeded. A history item the model refuses (or that a content
    /// filter stops) is left out and counted in <see cref="UserModel.Diagnostics"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">The user id is blank, the history is empty, or an item is invalid (the item is named).</exception>
    /// <exception cref="RpmModelOutputException">The model's answer for a stage was invalid on every attempt.</exception>
    /// <exception cref="RpmStageException">A model call failed.</exception>
    /// <exception cref="RpmCallDeferredException">The chat client deferred some of a stage's calls (e.g. to an offline batch): every call of the stage was asked, finished ones are checkpointed, and the build continues when run again.</exception>
    /// <exception cref="UserModelConcurrencyException">Another writer saved a model for the user during the build.</exception>
    public Task<UserModel> BuildUserModelAsync(string userId, RpmTask task, IEnumerable<HistoryItem> history, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(history);
        IReadOnlyList<HistoryItem> items = HistoryValidation.Normalize(task, history, existing: null, nameof(history));
        if (items.Count == 0)
        {
            throw new ArgumentException($"The history of '{userId}' is empty: a user model needs at least one history item.", nameof(history));
        }

        return SingleFlightAsync(userId, WorkFingerprint.Of("build", task, items), ct => SavedAsync(userId, _builder.BuildAsync(userId, task, items, ct)), cancellationToken);
    }

    /// <summary>
    /// Adds new history items to a user's saved model without rebuilding it: only the new items get feature
    /// extraction (tagged with the existing factors) and reasoning paths; the statistics are recomputed locally over
    /// the whole history. Factors are rebuilt from all features only when more than
    /// <see cref="RpmOptions.FactorRebuildThreshold"/> of the new features fit no existing factor.
    /// </summary>
    /// <remarks>
    /// Cost for M new items over N stored ones: M feature calls and M reasoning calls (M / batch size when batching);
    /// when the factors are rebuilt, one factor-construction call and N + M reasoning calls instead of M, because every
    /// stored reasoning path cites factors that no longer exist and is written again against the new factors (their
    /// embeddings are kept: the retrieval key is the features' names and contexts). Without a rebuild the factor set is
    /// unchanged; stored paths cite the statistics as they were when written, and prompts always show the current ones.
    /// </remarks>
    /// <param name="userId">The user, who must have a saved model.</param>
    /// <param name="newItems">The new items; ids must not already be in the model.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The saved, updated model.</returns>
    /// <exception cref="InvalidOperationException">The user has no saved model.</exception>
    /// <exception cref="ArgumentException">An item is invalid or its id is already in the model.</exception>
    /// <exception cref="RpmCallDeferredException">The chat client deferred some of a stage's calls; finished calls are checkpointed, and the update continues when run again.</exception>
    /// <exception cref="UserModelConcurrencyException">Another writer saved the user's model during the update.</exception>
    public async Task<UserModel> AddHistoryAsync(string userId, IEnumerable<HistoryItem> newItems, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(newItems);
        List<HistoryItem> given = [.. newItems];
        UserModel first = await ExistingAsync(userId, cancellationToken).ConfigureAwait(false);

        // One update per user at a time in this process: the same items added twice at once are paid once (the second
        // call joins the first); other items wait, then are added to the model the first saved.
        return await SingleFlightAsync(userId, WorkFingerprint.Of("add", first.Task, given), async ct =>
        {
            UserModel existing = await ExistingAsync(userId, ct).ConfigureAwait(false);
            IReadOnlyList<HistoryItem> items = HistoryValidation.Normalize(existing.Task, given, existing, nameof(newItems));
            return items.Count == 0 ? existing : await SavedAsync(userId, _builder.AddHistoryAsync(existing, items, ct)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<UserModel> ExistingAsync(string userId, CancellationToken cancellationToken) =>
        await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The user '{userId}' has no saved model to add history to; build one first with {nameof(BuildUserModelAsync)}.");

    /// <summary>Gets a user's saved model.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The model, or <see langword="null"/> when none is saved.</returns>
    /// <remarks>
    /// Reads the store's entity tag of the model (<see cref="IUserModelStore.GetETagAsync"/>) and, while it matches the
    /// model kept in memory (<see cref="RpmOptions.UserModelCacheSize"/>), returns that instance without reading the
    /// model; otherwise reads it from the store. A model saved by another process or host is seen at once.
    /// </remarks>
    public Task<UserModel?> GetUserModelAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        return _models.GetAsync(userId, cancellationToken);
    }

    /// <summary>Answers a query for the user of a saved model, as <see cref="RespondAsync(UserModel, RpmQuery, CancellationToken)"/> does.</summary>
    /// <param name="userId">The user, who must have a saved model.</param>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The personalized response.</returns>
    /// <exception cref="InvalidOperationException">The user has no saved model.</exception>
    public async Task<RpmResponse> RespondAsync(string userId, RpmQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(query);
        UserModel model = await _models.GetAsync(userId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The user '{userId}' has no saved model; build one first with {nameof(BuildUserModelAsync)}.");
        return await RespondAsync(model, query, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Answers a query as the user would: extracts the query's features tagged with the user's factors, retrieves the
    /// K past reasoning paths with the most similar features, and asks the model for a rationale and a final answer.
    /// </summary>
    /// <param name="userModel">The user's model.</param>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The answer, the rationale, the query's features and the retrieved examples.</returns>
    /// <exception cref="ArgumentException">A multiple-choice query has no options.</exception>
    /// <exception cref="RpmModelOutputException">The model's answer was invalid on every attempt.</exception>
    /// <exception cref="RpmStageException">A model call failed.</exception>
    public Task<RpmResponse> RespondAsync(UserModel userModel, RpmQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userModel);
        ArgumentNullException.ThrowIfNull(query);
        if (userModel.Task.Kind == RpmTaskKind.MultipleChoice && query.Options is not { Count: > 0 } && userModel.Task.Labels.Count == 0)
        {
            throw new ArgumentException($"The multiple-choice query '{query.Id}' has no options, and the task '{userModel.Task.Name}' has no default options.", nameof(query));
        }

        return _responder.RespondAsync(userModel, query, cancellationToken);
    }

    /// <summary>
    /// Gets what RPM would add to a chat request of a saved user: the user's factor statistics and the K past reasoning
    /// paths most similar to <paramref name="message"/>, as instructions. This is what <see cref="RpmChatClient"/> adds.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="message">The user's message (the query).</param>
    /// <param name="mode">How the message is matched to the user's past reasoning.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The personalization, or <see langword="null"/> when the user has no saved model.</returns>
    /// <exception cref="ArgumentException"><paramref name="userId"/> or <paramref name="message"/> is blank, or <paramref name="mode"/> is not defined.</exception>
    public async Task<RpmPersonalization?> PersonalizeAsync(string userId, string message, RpmPersonalizationMode mode = RpmPersonalizationMode.QueryFeatures, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        UserModel? model = await _models.GetAsync(userId, cancellationToken).ConfigureAwait(false);
        return model is null ? null : await PersonalizeAsync(model, message, mode, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Personalizes one live chat turn or agent run of a user, as <see cref="RpmChatClient"/> and the Agent Framework
    /// context provider do: what <see cref="PersonalizeAsync(string, string, RpmPersonalizationMode, CancellationToken)"/>
    /// returns, within a time budget, with the further requests of the same turn served from memory, and with every
    /// failure absorbed: RPM is an optional improvement of a turn and must never be the reason it is slow or lost.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="message">The user's message (the query).</param>
    /// <param name="options">The mode, the time budget and whether a failure throws; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests (the turn's own).</param>
    /// <returns>
    /// <see langword="null"/> when the user has no saved model (the turn passes through); otherwise the personalization,
    /// whose <see cref="RpmPersonalization.FailureReason"/> says why nothing was added when personalizing failed: the
    /// store or the embedding generator threw, the user's stored model could not be read, or the budget
    /// (<see cref="RpmPersonalizationOptions.Timeout"/>, default 5 s) ran out. A failed feature call alone does not fail
    /// the personalization: the message itself is then the retrieval key (<see cref="RpmPersonalization.FallbackReason"/>).
    /// </returns>
    /// <remarks>
    /// Local cost of a warm turn, whatever the size of the user's history: one read of the model's entity tag
    /// (<see cref="IUserModelStore.GetETagAsync"/>), the model and its search matrix from memory
    /// (<see cref="RpmOptions.UserModelCacheSize"/>), one embedding and one matrix search; a repeated request of the same
    /// turn (a tool-call round) costs the tag read alone (<see cref="RpmOptions.PersonalizationCacheSize"/>). Reported in
    /// the span <c>rpm.personalize</c> (with <c>rpm.store.read</c>, <c>rpm.query_feature_extraction</c> and
    /// <c>rpm.retrieval</c> under it), the histogram <see cref="RpmTelemetry.PersonalizeDurationMetric"/> and, on failure,
    /// log event 3002.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="userId"/> or <paramref name="message"/> is blank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="TimeoutException">With <see cref="RpmPersonalizationOptions.ThrowOnFailure"/>: the budget ran out (other failures throw as they are).</exception>
    public Task<RpmPersonalization?> PersonalizeTurnAsync(string userId, string message, RpmPersonalizationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        options ??= DefaultTurn;
        options.Validate(nameof(options));
        return _turns.PersonalizeAsync(userId, message, options, cancellationToken);
    }

    /// <summary>
    /// Gets what RPM adds to a chat request of <paramref name="userModel"/>'s user for <paramref name="message"/>: in
    /// <see cref="RpmPersonalizationMode.QueryFeatures"/> (the paper's stages 5 and 6) the message's features tagged with
    /// the user's factors, then the K reasoning paths with the most similar feature text (one chat-model call, one
    /// embedding); in <see cref="RpmPersonalizationMode.MessageEmbedding"/> the paths most similar to the message itself
    /// (one embedding). When the feature call fails, the message itself is the key and
    /// <see cref="RpmPersonalization.FallbackReason"/> says why.
    /// </summary>
    /// <param name="userModel">The user's model.</param>
    /// <param name="message">The user's message (the query).</param>
    /// <param name="mode">How the message is matched to the user's past reasoning.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The personalization: <see cref="RpmPersonalization.Instructions"/> is the text to add to a request.</returns>
    /// <exception cref="ArgumentException"><paramref name="message"/> is blank, or <paramref name="mode"/> is not defined.</exception>
    public Task<RpmPersonalization> PersonalizeAsync(UserModel userModel, string message, RpmPersonalizationMode mode = RpmPersonalizationMode.QueryFeatures, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userModel);
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentException($"{(int)mode} is not an {nameof(RpmPersonalizationMode)}.", nameof(mode));
        }

        return _personalizer.PersonalizeAsync(userModel, message, mode, cancellationToken);
    }

    // This process saved the user's model: the copy in memory is stale (the next read would see the new tag anyway).
    private async Task<UserModel> SavedAsync(string userId, Task<UserModel> save)
    {
        try
        {
            return await save.ConfigureAwait(false);
        }
        finally
        {
            _models.Invalidate(userId);
        }
    }
}
