using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rpm.Cli;

/// <summary>Checks quickly (3 s) that an OpenAI-compatible endpoint answers, before a run spends time on it.</summary>
public static class EndpointProbe
{
    /// <summary>The time the endpoint has to answer.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>Sends <c>GET {endpoint}/models</c>.</summary>
    /// <param name="settings">The endpoint settings.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>Null when the server answered (any status but 401/403); otherwise why it cannot be used.</returns>
    public static async Task<string?> CheckAsync(EndpointSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Endpoint is null)
        {
            return "no chat model endpoint is set (--endpoint, RPM_ENDPOINT or RPM_API_KEY).";
        }

        using var http = new HttpClient { Timeout = Timeout };
        using HttpRequestMessage request = ModelsRequest(settings.Endpoint, settings.ApiKey);

        try
        {
            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? $"{settings.Endpoint} refused the API key ({(int)response.StatusCode}); set RPM_API_KEY or --api-key."
                : null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"{settings.Endpoint} did not answer within {Timeout.TotalSeconds:0} s.";
        }
        catch (HttpRequestException ex)
        {
            return $"{settings.Endpoint} is not reachable ({ex.Message}).";
        }
    }

    /// <summary>The schema name of the one-line test request, so that fakes and logs can tell it apart.</summary>
    public const string PreflightSchemaName = "rpm_preflight";

    /// <summary>
    /// Sends one tiny structured request (about 60 tokens) to check what a listing cannot: that the model name is served,
    /// the key is accepted for it, and the server accepts the structured-output mode a run will use.
    /// </summary>
    /// <param name="client">The chat client.</param>
    /// <param name="settings">The endpoint settings (for messages).</param>
    /// <param name="useJsonSchema">Whether the run asks for JSON schemas (else JSON mode).</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>Null when the model answered; otherwise why it cannot be used and what to try.</returns>
    public static async Task<string?> PreflightAsync(IChatClient client, EndpointSettings settings, bool useJsonSchema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(settings);
        using JsonDocument schema = JsonDocument.Parse("""{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"],"additionalProperties":false}""");
        var options = new ChatOptions
        {
            ModelId = settings.Model,
            MaxOutputTokens = 20,
            Temperature = 0,
            ResponseFormat = useJsonSchema ? ChatResponseFormat.ForJsonSchema(schema.RootElement.Clone(), PreflightSchemaName, null) : ChatResponseFormat.Json,
        };
        if (useJsonSchema && settings.Strict)
        {
            // As the run will ask: a server that rejects strict schemas fails here, before anything is spent.
            options.AdditionalProperties = new() { ["strict"] = true };
        }

        ChatMessage[] messages = [new(ChatRole.System, "Reply with the JSON object {\"answer\": \"ok\"}."), new(ChatRole.User, "ping")];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await client.GetResponseAsync(messages, options, timeout.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"the model '{settings.Model}' at {settings.Endpoint} did not answer a one-line test request within 60 s.";
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Only a rejected request (400, 422, or no status at all) can be the response format's fault.
            bool format = ex is not RpmEndpointException endpoint || endpoint.StatusCode is 400 or 422;
            string hint = !useJsonSchema || !format ? string.Empty
                : settings.Strict ? " If the server rejects strict schemas, add --no-strict; if it rejects JSON schemas, add --json-mode."
                : " If the server rejects JSON schemas, add --json-mode.";
            string served = string.Empty;
            if (IsUnknownModel(ex))
            {
                // A wrong model name is the commonest first-run mistake: say which names the endpoint does serve.
                IReadOnlyList<string> models = await ListModelsAsync(settings, cancellationToken).ConfigureAwait(false);
                hint = string.Empty;
                served = models.Count == 0 ? string.Empty
                    : $" The endpoint serves: {string.Join(", ", models.OrderBy(m => Distance(m, settings.Model)).ThenBy(m => m, StringComparer.Ordinal).Take(8))}; pass one with --model (or RPM_MODEL).";
            }

            return $"the model '{settings.Model}' at {settings.Endpoint} failed a one-line test request: {ex.Message.TrimEnd().TrimEnd('.')}.{served}{hint}";
        }
    }

    /// <summary>Lists the model names an OpenAI-compatible endpoint serves (<c>GET {endpoint}/models</c>), or none when it will not say.</summary>
    /// <param name="settings">The endpoint settings.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The names.</returns>
    public static async Task<IReadOnlyList<string>> ListModelsAsync(EndpointSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Endpoint is null)
        {
            return [];
        }

        using var http = new HttpClient { Timeout = Timeout };
        using HttpRequestMessage request = ModelsRequest(settings.Endpoint, settings.ApiKey);

        try
        {
            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            using JsonDocument list = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            return list.RootElement.TryGetProperty("data", out JsonElement data) && data.ValueKind == JsonValueKind.Array
                ? [.. data.EnumerateArray().Select(m => m.TryGetProperty("id", out JsonElement id) ? id.GetString() : null).OfType<string>()]
                : [];
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException)
        {
            return [];
        }
    }

    // GET {endpoint}/models, with the key as a bearer token when there is one.
    private static HttpRequestMessage ModelsRequest(Uri endpoint, string? apiKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, endpoint.ToString().TrimEnd('/') + "/models");
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return request;
    }

    private static bool IsUnknownModel(Exception ex)
    {
        string text = (ex as RpmEndpointException)?.ServerMessage is { Length: > 0 } server ? server : ex.Message;
        return text.Contains("model", StringComparison.OrdinalIgnoreCase)
            && (text.Contains("not found", StringComparison.OrdinalIgnoreCase) || text.Contains("does not exist", StringComparison.OrdinalIgnoreCase)
                || text.Contains("unknown", StringComparison.OrdinalIgnoreCase) || text.Contains("not available", StringComparison.OrdinalIgnoreCase));
    }

    // Edit distance, case-insensitive: the served names closest to what was asked for come first.
    private static int Distance(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        int[] previous = [.. Enumerable.Range(0, b.Length + 1)];
        for (int i = 1; i <= a.Length; i++)
        {
            int[] current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
