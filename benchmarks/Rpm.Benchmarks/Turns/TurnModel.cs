using System.Globalization;
using Microsoft.Extensions.AI;

namespace Rpm.Benchmarks.Turns;

/// <summary>
/// The fake chat model of the turn benchmarks and the load run. An application's request (no RPM schema) and RPM's
/// stage-7 answer call (<c>rpm_answer</c>, from <see cref="RpmPipeline.RespondAsync(string, RpmQuery, CancellationToken)"/>)
/// take <see cref="Latency"/> and return a fixed answer; RPM's stage-5 feature call (<c>rpm_featurelist</c>) is answered
/// at once with a fixed, valid feature list, so that what a turn costs beyond the latency is RPM's local work alone.
/// </summary>
public sealed class TurnModel : IChatClient
{
    /// <summary>The fixed answer to an application's request.</summary>
    public const string Answer = "Here is my answer.";

    private readonly string _featureAnswer;
    private readonly string _ratingAnswer;
    private long _featureCalls;
    private long _appCalls;

    /// <param name="latency">The time an application's request and a stage-7 call take.</param>
    /// <param name="factor">A factor of the users' models, named by the fixed features (stage 5's schema allows only those).</param>
    public TurnModel(TimeSpan latency, string factor)
    {
        Latency = latency;
        _featureAnswer = $$"""{"features":[{"name":"Tense plot","context":"the message asks about a tense plot","factor":"{{factor}}"},{"name":"Recent release","context":"the message names a recent film","factor":null}]}""";
        _ratingAnswer = """{"rationale":"The most similar past items were rated alike.","answer":"4"}""";
    }

    /// <summary>The latency of an application's request and of a stage-7 call.</summary>
    public TimeSpan Latency { get; }

    /// <summary>Called with every application request (not RPM's own calls) before it is answered: the load run checks the instructions here.</summary>
    public Action<IReadOnlyList<ChatMessage>, ChatOptions?>? OnApplicationRequest { get; set; }

    /// <summary>Stage-5 feature calls answered so far.</summary>
    public long FeatureCalls => Interlocked.Read(ref _featureCalls);

    /// <summary>Application requests answered so far.</summary>
    public long ApplicationCalls => Interlocked.Read(ref _appCalls);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        string? schema = (options?.ResponseFormat as ChatResponseFormatJson)?.SchemaName;
        if (schema is not null && schema.StartsWith("rpm_feature", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _featureCalls);
            return Task.FromResult(Respond(_featureAnswer));
        }

        if (schema is not null && schema.StartsWith("rpm_", StringComparison.Ordinal) && schema != "rpm_answer")
        {
            throw new InvalidOperationException($"A turn made an unexpected RPM call (schema {schema}): the synthetic users are built already.");
        }

        return DelayedAsync(messages, options, schema == "rpm_answer", cancellationToken);
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The turn benchmarks do not stream.");

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("turn-model", null, "turn-model")
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }

    private static ChatResponse Respond(string text) =>
        new(new ChatMessage(ChatRole.Assistant, text)) { ModelId = "turn-model", Usage = new UsageDetails { InputTokenCount = 100, OutputTokenCount = 20 } };

    private async Task<ChatResponse> DelayedAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, bool rating, CancellationToken cancellationToken)
    {
        if (!rating)
        {
            Interlocked.Increment(ref _appCalls);
            OnApplicationRequest?.Invoke(messages as IReadOnlyList<ChatMessage> ?? [.. messages], options);
        }

        await Task.Delay(Latency, cancellationToken).ConfigureAwait(false);
        return Respond(rating ? _ratingAnswer : Answer);
    }

    /// <summary>A distinct chat message for turn <paramref name="turn"/>: no per-message cache can serve a later turn.</summary>
    public static string Message(long turn) =>
        string.Create(CultureInfo.InvariantCulture, $"Turn {turn}: should I watch Film {turn} ({1950 + (turn % 70)})? Genres: Drama, Thriller.");
}
