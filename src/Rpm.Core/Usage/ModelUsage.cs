using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>What model work cost: calls (retries included) and tokens, as reported by the endpoint.</summary>
public sealed record ModelUsage
{
    /// <summary>Initializes a new instance of the <see cref="ModelUsage"/> class.</summary>
    /// <param name="calls">The number of chat requests sent, retries included.</param>
    /// <param name="inputTokens">The input tokens the endpoint reported (0 when it reported none).</param>
    /// <param name="outputTokens">The output tokens the endpoint reported (0 when it reported none).</param>
    /// <param name="unreportedCalls">The number of calls for which the endpoint reported no token usage.</param>
    public ModelUsage(int calls, long inputTokens, long outputTokens, int unreportedCalls = 0)
    {
        Calls = calls;
        InputTokens = inputTokens;
        OutputTokens = outputTokens;
        UnreportedCalls = unreportedCalls;
    }

    /// <summary>Gets the number of chat requests sent, retries included.</summary>
    public int Calls { get; init; }

    /// <summary>Gets the input tokens the endpoint reported (0 when it reported none).</summary>
    public long InputTokens { get; init; }

    /// <summary>Gets the output tokens the endpoint reported (0 when it reported none).</summary>
    public long OutputTokens { get; init; }

    /// <summary>Gets the number of calls for which the endpoint reported no token usage.</summary>
    /// <remarks>Counted by Rpm from the responses, so only its constructor sets it from outside.</remarks>
    public int UnreportedCalls { get; internal init; }

    /// <summary>Gets usage of nothing.</summary>
    public static ModelUsage None { get; } = new(0, 0, 0);

    /// <summary>Gets the total of input and output tokens.</summary>
    public long TotalTokens => InputTokens + OutputTokens;

    /// <summary>Adds two usages.</summary>
    /// <param name="left">The first usage.</param>
    /// <param name="right">The second usage.</param>
    /// <returns>The sum.</returns>
    public static ModelUsage operator +(ModelUsage left, ModelUsage right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.Calls + right.Calls, left.InputTokens + right.InputTokens, left.OutputTokens + right.OutputTokens, left.UnreportedCalls + right.UnreportedCalls);
    }

    /// <summary>Creates the usage of one call from what the endpoint reported.</summary>
    /// <param name="usage">The reported usage, or <see langword="null"/>.</param>
    /// <returns>The usage of one call.</returns>
    public static ModelUsage FromCall(UsageDetails? usage) =>
        usage is null || (usage.InputTokenCount is null && usage.OutputTokenCount is null)
            ? new(1, 0, 0, 1)
            : new(1, usage.InputTokenCount ?? 0, usage.OutputTokenCount ?? 0);
}
