using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// An Agent Framework <see cref="AIContextProvider"/> that personalizes agent runs with RPM (arXiv 2505.21082): before
/// each run of a user with a saved model, it treats the run's latest user message as the query, retrieves the user's K
/// most similar past reasoning paths (RPM stages 5 and 6) and adds them, with the user's factor statistics, to the run's
/// instructions. After a run it can record what the user chose into the user's model.
/// </summary>
/// <remarks>
/// <para>
/// Attach it with <c>new ChatClientAgent(chatClient, new ChatClientAgentOptions { AIContextProviders = [provider] })</c>.
/// The user is named by <see cref="RpmContextProviderOptions.UserIdResolver"/> or <see cref="RpmContextProviderOptions.UserId"/>.
/// A run that names no user, whose user has no saved model, or whose own input has no user message with text gets
/// nothing added. Only the run's own input is read (the chat history the agent adds is not the query); streaming and
/// tool calls are untouched.
/// </para>
/// <para>
/// Cost per personalized run: one read of the model's entity tag from the pipeline's <see cref="IUserModelStore"/> (the
/// model comes from memory while the tag matches), one embedding, and in <see cref="RpmPersonalizationMode.QueryFeatures"/> (the default) one extra chat-model call on the
/// pipeline's chat client, before the run's own call. A <c>ChatClientAgent</c> calls the provider once per run,
/// so the tool-call rounds of a run share one personalization. Used as chat-client middleware instead
/// (<c>ChatClientBuilder.UseAIContextProviders</c>), it runs on every service call of a run and pays each time. The chat
/// calls RPM itself makes (personalizing, recording) are never personalized again, even when they reach this provider.
/// A failure while personalizing never fails the run (<see cref="RpmPipeline.PersonalizeTurnAsync"/>): the run goes to
/// the model unpersonalized and <see cref="RpmContextProviderOptions.OnPersonalized"/> sees why, unless
/// <see cref="RpmContextProviderOptions.ThrowOnPersonalizationFailure"/> is set.
/// </para>
/// <para>
/// Recording: each personalized run's user and query are kept in the session (<see cref="AgentSession.StateBag"/>,
/// serialized with it). When the app learns what the user chose, <see cref="RecordChoiceAsync(AgentSession, string, CancellationToken)"/>
/// adds it to the user's model as one history item; <see cref="RpmContextProviderOptions.ChoiceResolver"/> does the same
/// right after the run; <see cref="RecordChoiceAsync(string, string, string, CancellationToken)"/> records any input and
/// choice. Nothing is recorded unless the app gives a choice.
/// </para>
/// </remarks>
public sealed class RpmContextProvider : AIContextProvider
{
    private readonly RpmPipeline _pipeline;
    private readonly RpmContextProviderOptions _options;
    private readonly RpmPersonalizationOptions _turn;
    private readonly ProviderSessionState<RpmSessionState> _sessionState;

    /// <summary>Initializes a new instance of the <see cref="RpmContextProvider"/> class.</summary>
    /// <param name="pipeline">The RPM pipeline whose store holds the user models and whose stages personalize and record.</param>
    /// <param name="options">The options; <see cref="RpmContextProviderOptions.UserId"/> or <see cref="RpmContextProviderOptions.UserIdResolver"/> must be set. They are copied here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The options name no user, <see cref="RpmContextProviderOptions.UserId"/> is blank, or the mode is not defined.</exception>
    public RpmContextProvider(RpmPipeline pipeline, RpmContextProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        _pipeline = pipeline;
        _options = new RpmContextProviderOptions
        {
            UserId = options.UserId,
            UserIdResolver = options.UserIdResolver,
            Mode = options.Mode,
            OnPersonalized = options.OnPersonalized,
            ChoiceResolver = options.ChoiceResolver,
            PersonalizationTimeout = options.PersonalizationTimeout,
            ThrowOnPersonalizationFailure = options.ThrowOnPersonalizationFailure,
        };
        _turn = new RpmPersonalizationOptions { Mode = options.Mode, Timeout = options.PersonalizationTimeout, ThrowOnFailure = options.ThrowOnPersonalizationFailure };
        _sessionState = new ProviderSessionState<RpmSessionState>(_ => new RpmSessionState(), StateKeys[0], RpmAgentJsonContext.Default.Options);
    }

    /// <summary>Gets the pipeline the provider personalizes and records with.</summary>
    public RpmPipeline Pipeline => _pipeline;

    /// <summary>
    /// Adds one finished exchange to a user's saved model: a new history item whose input is <paramref name="input"/>
    /// (what the user was asked or shown, e.g. the query of a run) and whose output is <paramref name="choice"/> (what the
    /// user chose), with a new unique id and the current time. Calls <see cref="RpmPipeline.AddHistoryAsync"/>.
    /// </summary>
    /// <param name="userId">The user, who must have a saved model.</param>
    /// <param name="input">What the user was asked or shown.</param>
    /// <param name="choice">What the user chose: a valid answer of the user's task (a label, a rating on its scale, an option of the task).</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The saved, updated model (one more history item and reasoning path).</returns>
    /// <remarks>
    /// Costs what <see cref="RpmPipeline.AddHistoryAsync"/> costs for one item: two chat-model calls (the item's
    /// features, its reasoning path) and one embedding, and a factor rebuild when the item's features fit none of the
    /// user's factors. The choice is checked before anything is paid for. For a multiple-choice question with options of
    /// its own, call <see cref="RpmPipeline.AddHistoryAsync"/> with a <see cref="HistoryItem"/> that carries them.
    /// </remarks>
    /// <exception cref="ArgumentException">An argument is blank, or <paramref name="choice"/> is not a valid answer of the user's task.</exception>
    /// <exception cref="InvalidOperationException">The user has no saved model.</exception>
    /// <exception cref="RpmStageException">A model call failed.</exception>
    /// <exception cref="UserModelConcurrencyException">Another writer saved the user's model during the update.</exception>
    public Task<UserModel> RecordChoiceAsync(string userId, string input, string choice, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        ArgumentException.ThrowIfNullOrWhiteSpace(choice);
        return RecordAsync(userId, input, choice, cancellationToken);
    }

    /// <summary>
    /// Records what the user chose for the query of the session's latest finished personalized run, as
    /// <see cref="RecordChoiceAsync(string, string, string, CancellationToken)"/> does with that run's user and query.
    /// A run's choice is recorded once: a second call for the same run throws.
    /// </summary>
    /// <param name="session">The agent session the run belonged to (its state may have been serialized and restored in between).</param>
    /// <param name="choice">What the user chose: a valid answer of the user's task.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The saved, updated model.</returns>
    /// <remarks>Costs what <see cref="RecordChoiceAsync(string, string, string, CancellationToken)"/> costs. When recording fails, the run stays unrecorded, so the call can be repeated.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="session"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="choice"/> is blank or not a valid answer of the user's task.</exception>
    /// <exception cref="InvalidOperationException">The session has no finished personalized run whose choice is not recorded yet, or the user has no saved model.</exception>
    /// <exception cref="RpmStageException">A model call failed.</exception>
    /// <exception cref="UserModelConcurrencyException">Another writer saved the user's model during the update.</exception>
    public async Task<UserModel> RecordChoiceAsync(AgentSession session, string choice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrWhiteSpace(choice);
        RpmSessionState state = _sessionState.GetOrInitializeState(session);
        RpmSessionExchange finished = state.Finished ?? throw new InvalidOperationException(
            "This session has no finished run that RPM personalized and whose choice is not recorded yet: run the agent first (for a user with a saved model), or record with RecordChoiceAsync(userId, input, choice).");
        UserModel model = await RecordAsync(finished.UserId, finished.Query, choice, cancellationToken).ConfigureAwait(false);
        if (state.Finished == finished)
        {
            state.Finished = null;
            _sessionState.SaveState(session, state);
        }

        return model;
    }

    /// <inheritdoc/>
    protected override async ValueTask<AIContext> ProvideAIContextAsync(InvokingContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        // RPM's own calls (a stage call, or any call while a turn is personalized) pass through: the one
        // recursion guard of every Rpm layer, the marks of RpmStageCall.
        if (RpmStageCall.IsActive || RpmStageCall.IsPersonalizing)
        {
            return new AIContext();
        }

        RpmSessionState state = _sessionState.GetOrInitializeState(context.Session);
        state.Running = null;
        _sessionState.SaveState(context.Session, state);

        // The base class hands over the run's own input only (chat history and other providers' messages filtered out).
        IEnumerable<ChatMessage> messages = context.AIContext.Messages ?? [];
        string? userId = _options.UserIdResolver?.Invoke(messages, context.Session) ?? _options.UserId;
        string? query = messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text;
        if (string.IsNullOrWhiteSpace(userId) || string.IsNullOrWhiteSpace(query))
        {
            return new AIContext();
        }

        // A failure while personalizing leaves the run unpersonalized (reported, not thrown) unless the options say otherwise.
        RpmPersonalization? personalization = await _pipeline.PersonalizeTurnAsync(userId, query, _turn, cancellationToken).ConfigureAwait(false);
        if (personalization is null)
        {
            return new AIContext();
        }

        _options.OnPersonalized?.Invoke(personalization);
        if (!personalization.IsPersonalized)
        {
            return new AIContext();
        }

        state.Running = new RpmSessionExchange(userId, query);
        _sessionState.SaveState(context.Session, state);
        return new AIContext { Instructions = personalization.Instructions };
    }

    /// <inheritdoc/>
    protected override async ValueTask StoreAIContextAsync(InvokedContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        // RPM's own calls (a stage call, or any call while a turn is personalized) pass through: the one
        // recursion guard of every Rpm layer, the marks of RpmStageCall.
        if (RpmStageCall.IsActive || RpmStageCall.IsPersonalizing)
        {
            return;
        }

        // Called for successful runs only (the base class skips failed ones), so a failed run is never offered for recording.
        RpmSessionState state = _sessionState.GetOrInitializeState(context.Session);
        if (state.Running is not { } run)
        {
            return;
        }

        state.Running = null;
        if (run == state.LastRecorded)
        {
            // Middleware use calls the provider after every service call of a run: one item per query.
            _sessionState.SaveState(context.Session, state);
            return;
        }

        state.Finished = run;
        _sessionState.SaveState(context.Session, state);
        if (_options.ChoiceResolver is null)
        {
            return;
        }

        var exchange = new RpmExchange(run.UserId, run.Query, [.. context.ResponseMessages ?? []], context.Session, AIAgent.CurrentRunContext?.RunOptions);
        string? choice = _options.ChoiceResolver(exchange);
        if (string.IsNullOrWhiteSpace(choice))
        {
            return;
        }

        state.Finished = null;
        state.LastRecorded = run;
        _sessionState.SaveState(context.Session, state);
        await RecordAsync(run.UserId, run.Query, choice, cancellationToken).ConfigureAwait(false);
    }

    private async Task<UserModel> RecordAsync(string userId, string input, string choice, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(choice);
        UserModel model = await _pipeline.GetUserModelAsync(userId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The user '{userId}' has no saved model to record a choice in; build one first with {nameof(RpmPipeline)}.{nameof(RpmPipeline.BuildUserModelAsync)}.");

        // Checked here, before anything is paid for, so the error names the choice and the task.
        if (!model.Task.TryNormalizeAnswer(choice, null, out _, out string? error))
        {
            throw new ArgumentException($"The choice '{choice}' is not a valid answer of the task '{model.Task.Name}' of user '{userId}': {error}", nameof(choice));
        }

        var item = new HistoryItem("chat-" + Guid.CreateVersion7().ToString("N"), input, choice, _pipeline.Options.TimeProvider.GetUtcNow());
        return await _pipeline.AddHistoryAsync(userId, [item], cancellationToken).ConfigureAwait(false);
    }
}
