using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>Options of <see cref="RpmContextProvider"/>: who the user of a run is, how the run's message is matched, and what is recorded after it.</summary>
public sealed class RpmContextProviderOptions
{
    /// <summary>
    /// Gets or sets the user of every run, for an agent that serves one user. Used when <see cref="UserIdResolver"/> is
    /// <see langword="null"/> or returns <see langword="null"/>. Set this or <see cref="UserIdResolver"/>.
    /// </summary>
    public string? UserId { get; set; }

    /// <summary>
    /// Gets or sets a delegate that names the user of a run from the run's own input messages (not the chat history)
    /// and its session, for an agent that serves many users: for example a value the app keeps in
    /// <see cref="AgentSession.StateBag"/>, or the run options of <see cref="AIAgent.CurrentRunContext"/>. When it returns
    /// <see langword="null"/>, <see cref="UserId"/> is used; a run with no user gets nothing added.
    /// </summary>
    public Func<IEnumerable<ChatMessage>, AgentSession?, string?>? UserIdResolver { get; set; }

    /// <summary>
    /// Gets or sets how the run's latest user message is matched to the user's past reasoning. Default
    /// <see cref="RpmPersonalizationMode.QueryFeatures"/>, the paper's (one extra chat-model call per run);
    /// <see cref="RpmPersonalizationMode.MessageEmbedding"/> makes no extra chat-model call.
    /// </summary>
    public RpmPersonalizationMode Mode { get; set; } = RpmPersonalizationMode.QueryFeatures;

    /// <summary>
    /// Gets or sets a callback that sees each personalization before the run goes to the model (to show or log what was
    /// added and what it cost), also one that failed (<see cref="RpmPersonalization.FailureReason"/> says why the run goes
    /// unpersonalized). Not called for runs that name no user, whose user has no saved model, or that have no user message.
    /// </summary>
    public Action<RpmPersonalization>? OnPersonalized { get; set; }

    /// <summary>
    /// Gets or sets the longest time personalizing a run may take before the run goes to the model unpersonalized.
    /// Default 5 s (as <see cref="RpmPersonalizationOptions.Timeout"/>); <see cref="Timeout.InfiniteTimeSpan"/> for none.
    /// </summary>
    public TimeSpan PersonalizationTimeout { get; set; } = new RpmPersonalizationOptions().Timeout;

    /// <summary>
    /// Gets or sets a value indicating whether a failure while personalizing (the store, the embedding generator, the
    /// feature call's endpoint, the <see cref="PersonalizationTimeout"/>) fails the run. Default <see langword="false"/>:
    /// the run goes to the model unpersonalized and the failure is reported (<see cref="OnPersonalized"/>, log event 3002,
    /// the <c>rpm.personalize.duration</c> metric, the <c>rpm.personalize</c> span).
    /// </summary>
    public bool ThrowOnPersonalizationFailure { get; set; }

    /// <summary>
    /// Gets or sets a delegate that, after each successful personalized run, says what the user chose for the run's
    /// query (a label, a rating, an option valid for the user's task), or returns <see langword="null"/> (or a blank
    /// string) to record nothing. It is asked once per query: not again for a run that repeats the query whose choice it
    /// just gave, nor for the further service calls of one run when the provider is chat-client middleware. A choice is added to the user's saved model as one new history item (input: the query; output: the
    /// choice), as <see cref="RpmContextProvider.RecordChoiceAsync(string, string, string, CancellationToken)"/> does,
    /// before the run returns: it costs what <see cref="RpmPipeline.AddHistoryAsync"/> costs for one item (two chat-model
    /// calls and one embedding), and its errors (an invalid choice, a failed model call) fail the run. When
    /// <see langword="null"/> (the default) nothing is ever recorded after a run; the app can still record later with
    /// <see cref="RpmContextProvider.RecordChoiceAsync(AgentSession, string, CancellationToken)"/>.
    /// </summary>
    public Func<RpmExchange, string?>? ChoiceResolver { get; set; }

    /// <summary>Checks the options.</summary>
    /// <param name="parameterName">The name of the caller's parameter that carried the options.</param>
    /// <exception cref="ArgumentException">Neither <see cref="UserId"/> nor <see cref="UserIdResolver"/> is set, <see cref="UserId"/> is blank, <see cref="Mode"/> is not defined, or <see cref="PersonalizationTimeout"/> is neither positive nor infinite.</exception>
    internal void Validate(string parameterName)
    {
        if (UserId is null && UserIdResolver is null)
        {
            throw new ArgumentException(
                $"RpmContextProvider needs to know whose model personalizes a run: set {nameof(RpmContextProviderOptions)}.{nameof(UserId)} (one user) or {nameof(UserIdResolver)} (a user per run).",
                parameterName);
        }

        if (UserId is not null && string.IsNullOrWhiteSpace(UserId))
        {
            throw new ArgumentException($"{nameof(RpmContextProviderOptions)}.{nameof(UserId)} is blank; give a user id or leave it null and set {nameof(UserIdResolver)}.", parameterName);
        }

        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentException($"{nameof(RpmContextProviderOptions)}.{nameof(Mode)} {(int)Mode} is not an {nameof(RpmPersonalizationMode)}.", parameterName);
        }

        if (PersonalizationTimeout <= TimeSpan.Zero && PersonalizationTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"{nameof(RpmContextProviderOptions)}.{nameof(PersonalizationTimeout)} must be positive or Timeout.InfiniteTimeSpan (was {PersonalizationTimeout}).", parameterName);
        }
    }
}
