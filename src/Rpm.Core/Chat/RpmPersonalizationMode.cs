namespace Rpm;

/// <summary>How a chat message is matched to a user's past reasoning when <see cref="RpmChatClient"/> personalizes a request.</summary>
public enum RpmPersonalizationMode
{
    /// <summary>
    /// The paper's way (RPM stage 5 and 6, arXiv 2505.21082): the message's features are first extracted and tagged with
    /// the user's factors, and the past reasoning paths whose feature text is most similar are retrieved. Costs one extra
    /// chat-model call per user turn (and one embedding), before the request itself.
    /// </summary>
    QueryFeatures,

    /// <summary>
    /// No extra chat-model call: the message's own text is embedded and compared with the feature text of the user's past
    /// items. An approximation of the paper's retrieval (a raw message and a list of features are different kinds of text,
    /// so neighbours can differ), for latency-sensitive chat. Costs one embedding per user turn.
    /// </summary>
    MessageEmbedding,
}
