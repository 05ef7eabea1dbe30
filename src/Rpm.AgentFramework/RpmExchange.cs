using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// A finished agent run that <see cref="RpmContextProvider"/> personalized: whose it was, the query (the run's latest
/// user message) and what the agent answered. <see cref="RpmContextProviderOptions.ChoiceResolver"/> reads it to say
/// what the user chose.
/// </summary>
public sealed class RpmExchange
{
    /// <summary>Initializes a new instance of the <see cref="RpmExchange"/> class.</summary>
    /// <param name="userId">The user the run was personalized for.</param>
    /// <param name="query">The run's latest user message, which was the personalization's query.</param>
    /// <param name="responseMessages">The messages the agent answered with.</param>
    /// <param name="session">The run's session, or <see langword="null"/>.</param>
    /// <param name="runOptions">The run's options, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="userId"/> or <paramref name="query"/> is blank.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="responseMessages"/> is <see langword="null"/>.</exception>
    public RpmExchange(string userId, string query, IReadOnlyList<ChatMessage> responseMessages, AgentSession? session, AgentRunOptions? runOptions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentNullException.ThrowIfNull(responseMessages);
        UserId = userId;
        Query = query;
        ResponseMessages = responseMessages;
        Session = session;
        RunOptions = runOptions;
    }

    /// <summary>Gets the user the run was personalized for.</summary>
    public string UserId { get; }

    /// <summary>Gets the run's latest user message: the personalization's query, and the input of a recorded history item.</summary>
    public string Query { get; }

    /// <summary>Gets the messages the agent answered with (for a run with tool calls, the calls and results too).</summary>
    public IReadOnlyList<ChatMessage> ResponseMessages { get; }

    /// <summary>Gets the run's session, or <see langword="null"/>.</summary>
    public AgentSession? Session { get; }

    /// <summary>
    /// Gets the options the run was started with (from <see cref="AIAgent.CurrentRunContext"/>), or <see langword="null"/>:
    /// an app that knows the user's choice when it starts the run can pass it in <see cref="AgentRunOptions.AdditionalProperties"/>.
    /// </summary>
    public AgentRunOptions? RunOptions { get; }
}
