namespace Rpm;

/// <summary>
/// What RPM adds to one chat request for one user: the user's factor statistics and the most similar past reasoning
/// paths, rendered as <see cref="Instructions"/>, with what it cost.
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
    public RpmPersonalization(
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
        UserModel = userModel;
        Message = message;
        Mode = mode;
        MessageFeatures = messageFeatures;
        Examples = examples;
        Instructions = instructions;
        Usage = usage;
    }

    /// <summary>Gets the user's model the personalization comes from.</summary>
    public UserModel UserModel { get; }

    /// <summary>Gets the message the examples were retrieved for (the latest user message of the request).</summary>
    public string Message { get; }

    /// <summary>Gets how the message was matched; <see cref="RpmPersonalizationMode.MessageEmbedding"/> also when the feature call failed (see <see cref="FallbackReason"/>).</summary>
    public RpmPersonalizationMode Mode { get; }

    /// <summary>Gets the message's features tagged with the user's factors (RPM stage 5); empty when the message itself was the retrieval key.</summary>
    public IReadOnlyList<Feature> MessageFeatures { get; }

    /// <summary>Gets the K retrieved reasoning paths (RPM stage 6), most similar first; fewer when the model has fewer.</summary>
    public IReadOnlyList<RetrievedExample> Examples { get; }

    /// <summary>Gets the text added to the request's instructions (<c>ChatOptions.Instructions</c>): the statistics and examples as a data block.</summary>
    public string Instructions { get; }

    /// <summary>Gets the chat-model calls and tokens of the personalization itself (one call in <see cref="RpmPersonalizationMode.QueryFeatures"/>, none otherwise).</summary>
    public ModelUsage Usage { get; }

    /// <summary>
    /// Gets why <see cref="RpmPersonalizationMode.QueryFeatures"/> was asked for but the message itself was the retrieval
    /// key (the feature call failed), or <see langword="null"/> when the requested mode was used.
    /// </summary>
    public string? FallbackReason { get; init; }
}
