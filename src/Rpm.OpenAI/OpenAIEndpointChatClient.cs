using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using ChatCompletion = OpenAI.Chat.ChatCompletion;
using Polly.Timeout;

namespace Rpm;

/// <summary>
/// A <see cref="DelegatingChatClient"/> over Microsoft.Extensions.AI's OpenAI client that turns what OpenAI-compatible
/// servers really send into what Rpm reads: an error becomes an <see cref="RpmEndpointException"/> carrying the
/// server's own words (OpenAI's JSON, vLLM's, a bare string, an HTML page from a proxy; the OpenAI client itself shows
/// only "Service request failed"), a 429 past the retry cap an <see cref="RpmRateLimitedException"/>, and an answer whose
/// text went to Ollama's <c>reasoning</c> field a <see cref="TextReasoningContent"/> (M.E.AI already reads
/// <c>reasoning_content</c>).
/// </summary>
public sealed partial class OpenAIEndpointChatClient : DelegatingChatClient
{
    private const int MaxServerText = 400;
    private readonly OpenAIEndpointOptions _options;

    /// <summary>Initializes a new instance of the <see cref="OpenAIEndpointChatClient"/> class.</summary>
    /// <param name="innerClient">The OpenAI chat client (<c>ChatClient.AsIChatClient()</c>).</param>
    /// <param name="options">The endpoint options, for messages (endpoint, the retry profile of the failed call).</param>
    public OpenAIEndpointChatClient(IChatClient innerClient, OpenAIEndpointOptions options)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(ex, cancellationToken) is { } translated)
        {
            throw translated;
        }

        AddReasoningField(response);
        return response;
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IAsyncEnumerator<ChatResponseUpdate> updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (Exception ex) when (Translate(ex, cancellationToken) is { } translated)
                {
                    throw translated;
                }

                yield return updates.Current;
            }
        }
        finally
        {
            await updates.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Extracts the server's own words from an error body, whatever its shape, in one short line.</summary>
    /// <param name="body">The body.</param>
    /// <returns>The text, or empty.</returns>
    public static string ServerText(string? body)
    {
        string text = (body ?? string.Empty).Trim();
        if (text.Length == 0)
        {
            return string.Empty;
        }

        if (text[0] is '{' or '"')
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(text);
                if (JsonText(document.RootElement) is { Length: > 0 } message)
                {
                    return Shorten(message);
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: shown as text below.
            }
        }

        if (text.StartsWith('<') || text.Contains("<html", StringComparison.OrdinalIgnoreCase))
        {
            string title = WebUtility.HtmlDecode(TitleRegex().Match(text).Groups[1].Value).Trim();
            string page = Collapse(WebUtility.HtmlDecode(TagRegex().Replace(ScriptRegex().Replace(text, " "), " ")));
            return Shorten(title.Length > 0 && !page.StartsWith(title, StringComparison.Ordinal) ? $"{title}: {page}" : page);
        }

        return Shorten(Collapse(text));
    }

    private Exception? Translate(Exception ex, CancellationToken cancellationToken)
    {
        switch (ex)
        {
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return null;
            case RpmEndpointException:
                return null;
            case ClientResultException result when result.Status != 0:
                return FromResponse(result);
            case ClientResultException result:
                return Unreachable(result.InnerException ?? result);
            case HttpRequestException or TimeoutRejectedException:
                return Unreachable(ex);
            case ArgumentOutOfRangeException or IndexOutOfRangeException or KeyNotFoundException:
                // Thrown while reading a 200 that is not a usable completion, e.g. "choices": [].
                return new RpmEndpointException($"{_options.Endpoint} answered with a chat completion that has no usable choice (an empty \"choices\" list).", 200, string.Empty, null, ex);
            case JsonException or FormatException:
                // A 200 whose body is not a chat completion: an empty body, or a login or error page from a proxy.
                return new RpmEndpointException(
                    $"{_options.Endpoint} answered with a body that is not an OpenAI chat completion ({OneLine(ex.Message)}); check that the URL points at the /v1 API.", 200, string.Empty, null, ex);
            case TaskCanceledException or TimeoutException:
                return new RpmEndpointException($"{_options.Endpoint} did not answer in time.", null, string.Empty, null, ex);
            default:
                return null;
        }
    }

    private RpmEndpointException Unreachable(Exception ex)
    {
        Exception cause = ex is ClientResultException { InnerException: { } inner } ? inner : ex;
        EndpointRetryProfile profile = EndpointResilience.CurrentProfile;
        EndpointRetryOptions retry = _options.For(profile);
        string reason = cause is TimeoutRejectedException
            ? string.Create(CultureInfo.InvariantCulture, $"no answer within {retry.AttemptTimeout.TotalSeconds:0.###} s")
            : cause.Message;
        return new RpmEndpointException($"{_options.Endpoint} could not be reached {Tries(profile, retry)}: {reason}", null, string.Empty, null, ex);
    }

    // What the call's retry profile did before it gave up, e.g. "after 2 retries (interactive profile)".
    private static string Tries(EndpointRetryProfile profile, EndpointRetryOptions retry) => profile == EndpointRetryProfile.Personalization
        ? "in the one attempt a live turn's personalization gets (it is not retried)"
        : string.Create(CultureInfo.InvariantCulture, $"after {retry.MaxRetryAttempts} {(retry.MaxRetryAttempts == 1 ? "retry" : "retries")} ({EndpointResilience.PipelineKey(profile)} profile)");

    private RpmEndpointException FromResponse(ClientResultException ex)
    {
        System.ClientModel.Primitives.PipelineResponse? response = ex.GetRawResponse();
        string body;
        try
        {
            body = response?.Content?.ToString() ?? string.Empty;
        }
        catch (InvalidOperationException)
        {
            body = string.Empty;
        }

        string server = ServerText(body);
        string status = string.Create(CultureInfo.InvariantCulture, $"{ex.Status} {response?.ReasonPhrase ?? ((HttpStatusCode)ex.Status).ToString()}").Trim();
        TimeSpan? retryAfter = response is null ? null : RetryAfter(response);
        string said = server.Length > 0 ? $": {server}" : " (no message in the body)";
        if (ex.Status == 429)
        {
            EndpointRetryProfile profile = EndpointResilience.CurrentProfile;
            EndpointRetryOptions retry = _options.For(profile);
            bool quota = body.Contains("insufficient_quota", StringComparison.OrdinalIgnoreCase);
            bool overCap = profile != EndpointRetryProfile.Personalization && retryAfter is TimeSpan wait && wait > retry.RetryAfterCap;
            string why = quota ? "the account's quota is exhausted"
                : overCap ? string.Create(
                    CultureInfo.InvariantCulture,
                    $"it asked to wait {retryAfter!.Value.TotalSeconds:0} s, more than the {retry.RetryAfterCap.TotalSeconds:0} s this client waits at most in a call of the {EndpointResilience.PipelineKey(profile)} profile (OpenAIEndpointOptions.{(profile == EndpointRetryProfile.Build ? "Build" : "Interactive")}.RetryAfterCap; rpm: --retry-after-cap)")
                : profile == EndpointRetryProfile.Personalization ? "a live turn's personalization is not retried"
                : string.Create(CultureInfo.InvariantCulture, $"it kept rate-limiting through {retry.MaxRetryAttempts} {(retry.MaxRetryAttempts == 1 ? "retry" : "retries")} ({EndpointResilience.PipelineKey(profile)} profile)");
            return new RpmRateLimitedException($"{_options.Endpoint} rate-limited the request (429): {why}{said}", server, retryAfter, overCap ? retry.RetryAfterCap : null, ex);
        }

        return new RpmEndpointException($"{_options.Endpoint} answered {status}{said}", ex.Status, server, retryAfter, ex);
    }

    private static TimeSpan? RetryAfter(System.ClientModel.Primitives.PipelineResponse response)
    {
        if (response.Headers.TryGetValue("retry-after-ms", out string? ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds))
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (response.Headers.TryGetValue("Retry-After", out string? value) && value is not null)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date))
            {
                return date - DateTimeOffset.UtcNow;
            }
        }

        return null;
    }

    // Ollama's OpenAI endpoint puts a thinking model's text in "reasoning" (M.E.AI reads vLLM's and DeepSeek's
    // "reasoning_content" itself): surface it, so that an empty answer can say where its text went.
#pragma warning disable SCME0001 // Patch is how the OpenAI client exposes fields it does not model.
    private static void AddReasoningField(ChatResponse response)
    {
        if (response.RawRepresentation is not ChatCompletion completion || response.Messages.Count == 0
            || response.Messages[^1].Contents.OfType<TextReasoningContent>().Any())
        {
            return;
        }

        if (completion.Patch.TryGetValue("$.choices[0].message.reasoning"u8, out string? reasoning) && !string.IsNullOrEmpty(reasoning))
        {
            response.Messages[^1].Contents.Insert(0, new TextReasoningContent(reasoning));
        }
    }
#pragma warning restore SCME0001

    private static string? JsonText(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Object => First(element, "error") is { } error && JsonText(error) is { Length: > 0 } inner
            ? inner + Code(error.ValueKind == JsonValueKind.Object ? error : element, inner)
            : (First(element, "message") ?? First(element, "detail") ?? First(element, "error_message") ?? First(element, "msg")) is { } m ? JsonText(m) : null,
        JsonValueKind.Array => string.Join("; ", element.EnumerateArray().Select(JsonText).Where(t => !string.IsNullOrEmpty(t))),
        _ => null,
    };

    // OpenAI's and Azure's error code ("content_filter", "rate_limit_exceeded"), when the message does not already say it.
    private static string Code(JsonElement error, string message) =>
        First(error, "code") is { ValueKind: JsonValueKind.String } code && !message.Contains(code.GetString()!, StringComparison.Ordinal) ? $" ({code.GetString()})" : string.Empty;

    private static JsonElement? First(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string OneLine(string text) => Collapse(text.Split(" LineNumber:", 2)[0]);

    private static string Collapse(string text) => WhitespaceRegex().Replace(text, " ").Trim();

    private static string Shorten(string text) => text.Length <= MaxServerText ? text : string.Concat(text.AsSpan(0, MaxServerText - 3), "...");

    [GeneratedRegex(@"<title[^>]*>(.*?)</title>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex TitleRegex();

    [GeneratedRegex(@"<(script|style|head)[^>]*>.*?</\1>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ScriptRegex();

    [GeneratedRegex(@"<[^>]+>")]
    private static partial Regex TagRegex();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespaceRegex();
}
