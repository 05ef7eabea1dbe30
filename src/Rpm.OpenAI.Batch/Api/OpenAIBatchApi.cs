using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rpm;

/// <summary>The few calls of OpenAI's Files and Batches APIs a batch build needs, over the caller's <see cref="HttpClient"/>.</summary>
internal sealed class OpenAIBatchApi
{
    private readonly HttpClient _http;
    private readonly HttpClient _createHttp;
    private readonly string _endpoint;
    private readonly string? _apiKey;

    /// <param name="http">Sends the calls that are safe to repeat (uploads, polls, downloads).</param>
    /// <param name="createHttp">Sends batch creations: a retried creation whose first answer was lost would pay for a batch twice.</param>
    /// <param name="endpoint">The /v1 base URL.</param>
    /// <param name="apiKey">The API key, or <see langword="null"/> for none.</param>
    public OpenAIBatchApi(HttpClient http, HttpClient createHttp, Uri endpoint, string? apiKey)
    {
        _http = http;
        _createHttp = createHttp;
        _endpoint = endpoint.ToString().TrimEnd('/');
        _apiKey = apiKey;
    }

    /// <summary>Uploads a JSONL file of requests with purpose <c>batch</c>; returns its file id.</summary>
    public async Task<string> UploadAsync(byte[] jsonl, string fileName, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("batch"), "purpose");
        var file = new ByteArrayContent(jsonl);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", fileName);
        JsonObject json = await SendAsync(HttpMethod.Post, "/files", form, $"uploading the batch input file {fileName}", cancellationToken).ConfigureAwait(false);
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
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return Read(await SendAsync(HttpMethod.Post, "/batches", content, $"creating the batch of input file {inputFileId}", cancellationToken, _createHttp).ConfigureAwait(false));
    }

    public async Task<BatchInfo> GetAsync(string batchId, CancellationToken cancellationToken) =>
        Read(await SendAsync(HttpMethod.Get, "/batches/" + Uri.EscapeDataString(batchId), null, $"polling batch {batchId}", cancellationToken).ConfigureAwait(false));

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
        using HttpRequestMessage request = Request(HttpMethod.Get, "/files/" + Uri.EscapeDataString(fileId) + "/content", null);
        using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw Error(response, text, $"downloading {what} (file {fileId})");
        }

        return text;
    }

    private static BatchInfo Read(JsonObject json)
    {
        string? errors = null;
        if (json["errors"] is JsonObject { } list && list["data"] is JsonArray data && data.Count > 0)
        {
            errors = string.Join("; ", data.OfType<JsonObject>().Select(e => string.Join(": ", new[] { Text(e, "code"), Text(e, "message") }.Where(t => !string.IsNullOrEmpty(t)))));
        }

        return new BatchInfo(
            Text(json, "id") ?? throw new OpenAIBatchException("A batch object without an id was returned."),
            Text(json, "status") ?? "unknown",
            Text(json, "input_file_id"),
            Text(json, "output_file_id"),
            Text(json, "error_file_id"),
            errors);
    }

    private static string? Text(JsonObject json, string name) =>
        json[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private async Task<JsonObject> SendAsync(HttpMethod method, string path, HttpContent? content, string what, CancellationToken cancellationToken, HttpClient? http = null)
    {
        using HttpRequestMessage request = Request(method, path, content);
        using HttpResponseMessage response = await (http ?? _http).SendAsync(request, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw Error(response, text, what);
        }

        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException ex)
        {
            throw new OpenAIBatchException($"{_endpoint} answered {what} with a body that is not a JSON object ({ex.Message}); check that the endpoint is the /v1 API.", ex);
        }
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
