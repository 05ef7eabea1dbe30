namespace Rpm;

/// <summary>
/// What RPM adds to one chat request for one user: the user's factor statistics and the most similar past reasoning
/// paths, rendered as <see cref="Instructions"/>, with what it cost; or, for a live turn whose personalization failed,
/// why the turn went to the model unpersonalized (<see cref="FailureReason"/>).
/// </summary>
public sealed class RpmPersonalization
{
    /// <summary>Initializes a new instance of the <see cref="RpmPersonalization"/> class.</summary>
    /// <param name="userModel">The user's model the personalization comes from.</param>
    /// <param name="message">The message the examples were retrieved for.</param>
    /// <param name="mode">How the message was matched to the user's past reasoning.</param>
    /// <param name="messageFeatures">The message's features tagged with the user's factors; empty in <see cref="RpmPersonalizationMode.MessageEmbedding"/>.</param>
    /// <param name="examples">The retrieved reasoning paths, most similar first.</param>
    /// <param name="instructions">The text added to the request's instructions.</param>
    /// <param name="usage">The chat-model calls and tokens the personalization itself cost.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    internal RpmPersonalization(
        UserModel userModel,
        string message,
        RpmPersonalizationMode mode,
        IReadOnlyList<Feature> messageFeatures,
        IReadOnlyList<RetrievedExample> examples,
        string instructions,
        ModelUsage usage)
    {
        ArgumentNullException.ThrowIfNull(userModel);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(messageFeatures);
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(instructions);
        ArgumentNullException.ThrowIfNull(usage);
        UserId = userModel.UserId;
        UserModel = userModel;
        Message = message;
        Mode = mode;
        MessageFeatures = messageFeatures;
        Examples = examples;
        Instructions = instructions;
        Usage = usage;
    }

    private RpmPersonalization(string userId, UserModel? userModel, string message, RpmPersonalizationMode mode, ModelUsage usage, string failureReason, Exception exception)
    {
        UserId = userId;
        UserModel = userModel;
        Message = message;
        Mode = mode;
        MessageFeatures = [];
        Examples = [];
        Instructions = string.Empty;
        Usage = usage;
        FailureReason = failureReason;
        Exception = exception;
    }

    /// <summary>Gets the user the personalization is for.</summary>
    public string UserId { get; }

    /// <summary>Gets the user's model the personalization comes from; <see langword="null"/> when personalizing failed before the model was read (see <see cref="FailureReason"/>).</summary>
    public UserModel? UserModel { get; }

    /// <summary>Gets the message the examples were retrieved for (the latest user message of the request).</summary>
    public string Message { get; }

    /// <summary>Gets how the message was matched; <see cref="RpmPersonalizationMode.MessageEmbedding"/> also when the feature call failed (see <see cref="FallbackReason"/>).</summary>
    public RpmPersonalizationMode Mode { get; }

    /// <summary>Gets the message's features tagged with the user's factors (RPM stage 5); empty when the message itself was the retrieval key.</summary>
    public IReadOnlyList<Feature> MessageFeatures { get; }

    /// <summary>Gets the K retrieved reasoning paths (RPM stage 6), most similar first; fewer when the model has fewer.</summary>
    public IReadOnlyList<RetrievedExample> Examples { get; }

    /// <summary>Gets the text added to the request's instructions (<c>ChatOptions.Instructions</c>): the statistics and examples as a data block; empty when personalizing failed.</summary>
    public string Instructions { get; }

    /// <summary>Gets the chat-model calls and tokens of the personalization itself (one call in <see cref="RpmPersonalizationMode.QueryFeatures"/>, none otherwise).</summary>
    public ModelUsage Usage { get; }

    /// <summary>
    /// Gets why <see cref="RpmPersonalizationMode.QueryFeatures"/> was asked for but the message itself was the retrieval
    /// key (the feature call failed), or <see langword="null"/> when the requested mode was used.
    /// </summary>
    public string? FallbackReason { get; internal init; }

    /// <summary>
    /// Gets why personalizing this live turn failed, so that it went to the chat model unpersonalized (nothing added to
    /// its instructions), or <see langword="null"/> when it was personalized. Set by <see cref="RpmChatClient"/> and the
    /// Agent Framework context provider when the store, the embedding generator or the feature call failed, or
    /// personalizing took longer than its timeout, unless they were told to throw instead.
    /// </summary>
    public string? FailureReason { get; }

    /// <summary>Gets the exception behind <see cref="FailureReason"/>, or <see langword="null"/> when the turn was personalized.</summary>
    public Exception? Exception { get; }

    /// <summary>Gets a value indicating whether anything was added to the turn (<see cref="FailureReason"/> is <see langword="null"/>).</summary>
    public bool IsPersonalized => FailureReason is null;

    /// <summary>Gets a value indicating whether this personalization was kept from an earlier request of the same turn (a tool-call round, a retry), so it cost nothing (<see cref="Usage"/> is none).</summary>
    public bool IsCached { get; private init; }

    /// <summary>Returns this personalization as served again from the turn cache: the same text, no usage.</summary>
    internal RpmPersonalization Reused() =>
        new(UserModel!, Message, Mode, MessageFeatures, Examples, Instructions, ModelUsage.None) { FallbackReason = FallbackReason, IsCached = true };

    /// <summary>Creates the record of a live turn whose personalization failed.</summary>
    internal static RpmPersonalization Failed(string userId, UserModel? userModel, string message, RpmPersonalizationMode mode, ModelUsage usage, string reason, Exception exception) =>
        new(userId, userModel, message, mode, usage, reason, exception);
}
