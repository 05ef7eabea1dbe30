using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Rpm.Evaluation;

/// <summary>
/// A <see cref="DelegatingChatClient"/> layer that counts calls and tokens into <see cref="UsageMeter"/>s. When a
/// tokenizer is given and the endpoint reports no token usage, it counts the prompt and the answer with the tokenizer
/// and writes that count into the response (marked with <see cref="EstimatedCount"/>), so that every layer above, and
/// the cache, see the same numbers.
/// </summary>
internal sealed class MeteringChatClient : DelegatingChatClient
{
    /// <summary>The key in <see cref="UsageDetails.AdditionalCounts"/> that marks tokens counted locally.</summary>
    public const string EstimatedCount = "rpm.estimated";

    /// <summary>Tokens of chat framing per message, added to the text's tokens when counting locally (OpenAI's documented rule of thumb).</summary>
    public const int TokensPerMessage = 3;

    private readonly UsageMeter[] _meters;
    private readonly Tokenizer? _tokenizer;

    /// <summary>Initializes a new instance of the <see cref="MeteringChatClient"/> class.</summary>
    /// <param name="innerClient">The client to count.</param>
    /// <param name="tokenizer">Counts tokens the endpoint does not report; <see langword="null"/> to leave them at 0.</param>
    /// <param name="meters">Where to count.</param>
    public MeteringChatClient(IChatClient innerClient, Tokenizer? tokenizer, params UsageMeter[] meters)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meters = meters;
        _tokenizer = tokenizer;
    }

    /// <summary>Counts a prompt's input tokens as this layer does when the endpoint reports none.</summary>
    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="messages">The prompt.</param>
    /// <returns>The tokens of every message's text, plus <see cref="TokensPerMessage"/> per message and 3 to prime the answer.</returns>
    public static long CountInputTokens(Tokenizer tokenizer, IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(messages);
        long total = 3;
        foreach (ChatMessage message in messages)
        {
            total += TokensPerMessage + tokenizer.CountTokens(message.Text, considerNormalization: false);
        }

        return total;
    }

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        List<ChatMessage> prompt = [.. messages];
        ChatResponse response = await base.GetResponseAsync(prompt, options, cancellationToken).ConfigureAwait(false);
        bool reported = response.Usage is { } u && (u.InputTokenCount is not null || u.OutputTokenCount is not null);
        if (!reported && _tokenizer is not null)
        {
            response.Usage = new UsageDetails
            {
                InputTokenCount = CountInputTokens(_tokenizer, prompt),
                OutputTokenCount = _tokenizer.CountTokens(response.Text, considerNormalization: false),
                AdditionalCounts = new() { [EstimatedCount] = 1 },
            };
        }

        bool cached = Flag(response, SqliteCachingChatClient.CachedProperty);
        bool reused = cached && Flag(response, SqliteCachingChatClient.ReusedProperty);
        bool estimated = response.Usage?.AdditionalCounts?.ContainsKey(EstimatedCount) == true;
        foreach (UsageMeter meter in _meters)
        {
            meter.Record(response.Usage?.InputTokenCount ?? 0, response.Usage?.OutputTokenCount ?? 0, cached, estimated, reused);
        }

        return response;
    }

    private static bool Flag(ChatResponse response, string property)
    {
        object? flag = null;
        return response.AdditionalProperties?.TryGetValue(property, out flag) == true
            && flag is true or System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.True };
    }
}
