using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Rpm;

/// <summary>
/// The transport under the synchronous OpenAI chat client during a batch build: a chat-completions request is answered
/// with the body a batch returned for exactly the same request (the same bytes the synchronous call would send), and
/// otherwise recorded for the next batch and deferred (<see cref="RpmCallDeferredException"/>). Nothing goes over the network.
/// </summary>
internal sealed class BatchReplayHandler : HttpMessageHandler
{
    private static readonly AsyncLocal<string?> CurrentUser = new();
    private readonly BatchStateStore _state;
    private readonly ConcurrentDictionary<string, HashSet<string>> _used = new(StringComparer.Ordinal);
    private PendingRequests _pending = new();

    public BatchReplayHandler(BatchStateStore state)
    {
        _state = state;
    }

    /// <summary>Gets or sets the user whose build runs in the current asynchronous flow (named in errors about the user's requests).</summary>
    public static string? User
    {
        get => CurrentUser.Value;
        set => CurrentUser.Value = value;
    }

    /// <summary>Starts collecting a new wave's requests and returns the previous wave's.</summary>
    public PendingRequests TakePending() => Interlocked.Exchange(ref _pending, new PendingRequests());

    /// <summary>Forgets which users asked for which answers (a new build starts with an empty window).</summary>
    public void ForgetUsed() => _used.Clear();

    /// <summary>
    /// Gets the answers the users of the window asked for, answered or not, and forgets the given users': what a built
    /// user asked, and no user still in the window did, may leave the state file.
    /// </summary>
    /// <param name="leaving">The users leaving the window (built or failed).</param>
    /// <returns>Each leaving user's keys, and every key a user still in the window asked for.</returns>
    public (Dictionary<string, HashSet<string>> Leaving, HashSet<string> Staying) TakeUsed(IEnumerable<string> leaving)
    {
        var left = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (string user in leaving)
        {
            left[user] = _used.TryRemove(user, out HashSet<string>? keys) ? keys : [];
        }

        var staying = new HashSet<string>(StringComparer.Ordinal);
        foreach (HashSet<string> keys in _used.Values)
        {
            lock (keys)
            {
                staying.UnionWith(keys);
            }
        }

        return (left, staying);
    }

    /// <summary>The key of a request: the SHA-256 of its body as the synchronous client sends it (the model, messages, format and sampling all shape the answer).</summary>
    public static string KeyOf(string body) => "rpm-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));

    private static bool IsStreaming(string body)
    {
        using var document = System.Text.Json.JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("stream", out System.Text.Json.JsonElement stream) && stream.ValueKind == System.Text.Json.JsonValueKind.True;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string path = request.RequestUri?.AbsolutePath ?? string.Empty;
        if (request.Method != HttpMethod.Post || !path.EndsWith("/chat/completions", StringComparison.Ordinal) || request.Content is null)
        {
            throw new NotSupportedException($"A batch build sends only chat completions through the Batch API; '{request.Method} {path}' cannot be batched.");
        }

        string body = await request.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (IsStreaming(body))
        {
            throw new NotSupportedException("The Batch API does not stream: a batch build answers only non-streaming chat calls (GetResponseAsync).");
        }

        string key = KeyOf(body);
        if (User is { } user)
        {
            HashSet<string> used = _used.GetOrAdd(user, _ => new HashSet<string>(StringComparer.Ordinal));
            lock (used)
            {
                used.Add(key);
            }
        }

        string? answer = await _state.GetAnswerAsync(key, cancellationToken).ConfigureAwait(false);
        if (answer is null)
        {
            _pending.Add(key, body, User, RpmStageCall.Stage);
            throw new RpmCallDeferredException($"The request {key} has no answer yet; it goes into the next batch.");
        }

        var content = new StringContent(answer, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
    }
}
