using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>
/// The few calls of OpenAI's Files and Batches APIs a batch build needs, over the caller's <see cref="HttpClient"/>. A 429
/// is waited out here (its <c>Retry-After</c>, else a capped exponential backoff), by the build retry profile's limits,
/// for the clients that do not already retry it: a 429 refuses the call, so even a batch creation is safe to repeat.
/// </summary>
internal sealed class OpenAIBatchApi
{
    private readonly HttpClient _http;
    private readonly HttpClient _createHttp;
    private readonly bool _httpRetriesRateLimits;
    private readonly string _endpoint;
    private readonly string? _apiKey;
    private readonly EndpointRetryOptions _retry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <param name="http">Sends the calls that are safe to repeat (uploads, polls, downloads).</param>
    /// <param name="createHttp">Sends batch creations: a retried creation whose first answer was lost would pay for a batch twice.</param>
    /// <param name="httpRetriesRateLimits">Whether <paramref name="http"/> already waits out 429s (the builder's own resilient client); then only <paramref name="createHttp"/>'s are waited out here.</param>
    /// <param name="endpoint">The /v1 base URL.</param>
    /// <param name="apiKey">The API key, or <see langword="null"/> for none.</param>
    /// <param name="retry">How many 429s to wait out per call, the longest <c>Retry-After</c> honoured and the backoff without one.</param>
    /// <param name="time">The clock the waits run on.</param>
    /// <param name="logger">Where each wait is logged.</param>
    public OpenAIBatchApi(HttpClient http, HttpClient createHttp, bool httpRetriesRateLimits, Uri endpoint, string? apiKey, EndpointRetryOptions retry, TimeProvider time, ILogger logger)
    {
        _http = http;
        _createHttp = createHttp;
        _httpRetriesRateLimits = httpRetriesRateLimits;
        _endpoint = endpoint.ToString().TrimEnd('/');
        _apiKey = apiKey;
        _retry = retry;
        _time = time;
        _logger = logger;
    }

    /// <summary>Uploads a JSONL file of requests with purpose <c>batch</c>; returns its file id.</summary>
    public async Task<string> UploadAsync(byte[] jsonl, string fileName, CancellationToken cancellationToken)
    {
        JsonObject json = await SendAsync(
            HttpMethod.Post,
            "/files",
            () =>
            {
                var form = new MultipartFormDataContent();
                form.Add(new StringContent("batch"), "purpose");
                var file = new ByteArrayContent(jsonl);
                file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
                form.Add(file, "file", fileName);
                return form;
            },
            $"uploading the batch input file {fileName}",
            cancellationToken).ConfigureAwait(false);
        return Text(json, "id") ?? throw new OpenAIBatchException($"{_endpoint}/files answered the upload of {fileName} without a file id.");
    }

    /// <summary>Creates a batch of chat completions over an uploaded input file.</summary>
    public async Task<BatchInfo> CreateAsync(string inputFileId, string completionWindow, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["input_file_id"] = inputFileId,
            ["endpoint"] = "/v1/chat/completions",
            ["completion_window"] = completionWindow,
            ["metadata"] = new JsonObject { ["source"] = "Rpm.OpenAI.Batch" },
        };
        string json = body.ToJsonString();
        return Read(await SendAsync(HttpMethod.Post, "/batches", () => new StringContent(json, Encoding.UTF8, "application/json"), $"creating the batch of input file {inputFileId}", cancellationToken, _createHttp).ConfigureAwait(false));
    }

    public async Task<BatchInfo> GetAsync(string batchId, CancellationToken cancellationToken) =>
        Read(await SendAsync(HttpMethod.Get, "/batches/" + Uri.EscapeDataString(batchId), null, $"polling batch {batchId}", cancellationToken).ConfigureAwait(false));

    /// <summary>Asks OpenAI to cancel a batch (<c>POST /v1/batches/{id}/cancel</c>): it goes to <c>cancelling</c>, then <c>cancelled</c> with the answers it has.</summary>
    public async Task<BatchInfo> CancelAsync(string batchId, CancellationToken cancellationToken) =>
        Read(await SendAsync(HttpMethod.Post, "/batches/" + Uri.EscapeDataString(batchId) + "/cancel", null, $"cancelling batch {batchId}", cancellationToken).ConfigureAwait(false));

    /// <summary>Finds the batch created over an input file, for a process that stopped before it could note the batch's id.</summary>
    public async Task<BatchInfo?> FindByInputFileAsync(string inputFileId, CancellationToken cancellationToken)
    {
        string? after = null;
        while (true)
        {
            string query = "/batches?limit=100" + (after is null ? string.Empty : "&after=" + Uri.EscapeDataString(after));
            JsonObject page = await SendAsync(HttpMethod.Get, query, null, $"looking for the batch of input file {inputFileId}", cancellationToken).ConfigureAwait(false);
            JsonArray data = page["data"] as JsonArray ?? [];
            foreach (JsonObject batch in data.OfType<JsonObject>())
            {
                if (Text(batch, "input_file_id") == inputFileId)
                {
                    return Read(batch);
                }
            }

            if (page["has_more"]?.GetValue<bool>() != true || data.Count == 0)
            {
                return null;
            }

            after = Text(page, "last_id") ?? Text((JsonObject)data[^1]!, "id");
        }
    }

    /// <summary>Downloads a file's content (a batch's output or error JSONL).</summary>
    public async Task<string> DownloadAsync(string fileId, string what, CancellationToken cancellationToken)
    {
        return await SendTextAsync(HttpMethod.Get, "/files/" + Uri.EscapeDataString(fileId) + "/content", null, $"downloading {what} (file {fileId})", _http, cancellationToken).ConfigureAwait(false);
    }

    private static BatchInfo Read(JsonObject json)
    {
        string? errors = null;
        if (json["errors"] is JsonObject { } list && list["data"] is JsonArray data && data.Count > 0)
        {
            errors = string.Join("; ", data.OfType<JsonObject>().Select(e => string.Join(": ", new[] { Text(e, "code"), Text(e, "message") }.Where(t => !string.IsNullOrEmpty(t)))));
        }

        JsonObject? counts = json["request_counts"] as JsonObject;
        return new BatchInfo(
            Text(json, "id") ?? throw new OpenAIBatchException("A batch object without an id was returned."),
            Text(json, "status") ?? "unknown",
            Text(json, "input_file_id"),
            Text(json, "output_file_id"),
            Text(json, "error_file_id"),
            errors)
        {
            CreatedAt = Number(json, "created_at") is long created and > 0 ? DateTimeOffset.FromUnixTimeSeconds(created) : null,
            RequestsCompleted = (int)(counts is null ? 0 : Number(counts, "completed") ?? 0),
            RequestsFailed = (int)(counts is null ? 0 : Number(counts, "failed") ?? 0),
            RequestsTotal = (int)(counts is null ? 0 : Number(counts, "total") ?? 0),
        };
    }

    private static long? Number(JsonObject json, string name) =>
        json[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue(out long number) ? number : null;

    private static string? Text(JsonObject json, string name) =>
        json[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private async Task<JsonObject> SendAsync(HttpMethod method, string path, Func<HttpContent>? content, string what, CancellationToken cancellationToken, HttpClient? http = null)
    {
        string text = await SendTextAsync(method, path, content, what, http ?? _http, cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException ex)
        {
            throw new OpenAIBatchException($"{_endpoint} answered {what} with a body that is not a JSON object ({ex.Message}); check that the endpoint is the /v1 API.", ex);
        }
    }

    /// <summary>Sends a call (a new request and body per attempt) and returns the body of its success; waits out 429s as the class says.</summary>
    private async Task<string> SendTextAsync(HttpMethod method, string path, Func<HttpContent>? content, string what, HttpClient http, CancellationToken cancellationToken)
    {
        bool retryRateLimits = !ReferenceEquals(http, _http) || !_httpRetriesRateLimits;
        for (int attempt = 1; ; attempt++)
        {
            using HttpRequestMessage request = Request(method, path, content?.Invoke());
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return text;
            }

            // An exhausted quota does not come back by waiting, and a wait longer than the cap would stall the build
            // silently: both fail the call with the server's words (the next run starts from the state file).
            if ((int)response.StatusCode == 429 && retryRateLimits && attempt <= _retry.MaxRetryAttempts
                && !text.Contains("insufficient_quota", StringComparison.OrdinalIgnoreCase)
                && RetryAfter(response) is var asked && (asked is null || asked <= _retry.RetryAfterCap))
            {
                TimeSpan delay = asked ?? Backoff(attempt, _retry.RetryBaseDelay, _retry.MaxRetryDelay);
                OpenAIBatchLog.RateLimited(_logger, what, delay, asked is not null, attempt, _retry.MaxRetryAttempts);
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            throw Error(response, text, what);
        }
    }

    /// <summary>Exponential backoff with jitter over its upper half, capped: base * 2^(attempt - 1) in [half, whole].</summary>
    internal static TimeSpan Backoff(int attempt, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        double whole = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30)));
        return TimeSpan.FromMilliseconds((whole / 2) + (Random.Shared.NextDouble() * whole / 2));
    }

    /// <summary>Reads how long a 429 asks the client to wait: <c>retry-after-ms</c>, then <c>Retry-After</c> (seconds or a date).</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out IEnumerable<string>? ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        return response.Headers.RetryAfter switch
        {
            { Delta: TimeSpan delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
            { Date: DateTimeOffset date } => date - _time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => null,
        };
    }

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, new Uri(_endpoint + path)) { Content = content };
        if (!string.IsNullOrEmpty(_apiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }

        return request;
    }

    private OpenAIBatchException Error(HttpResponseMessage response, string body, string what)
    {
        string said = OpenAIEndpointChatClient.ServerText(body);
        return new OpenAIBatchException(
            string.Create(CultureInfo.InvariantCulture, $"{_endpoint} answered {(int)response.StatusCode} when {what}{(said.Length > 0 ? ": " + said : ".")}"))
        {
            StatusCode = (int)response.StatusCode,
        };
    }
}
