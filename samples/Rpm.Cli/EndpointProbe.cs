using System.Net;
using System.Net.Http.Headers;

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
        using var request = new HttpRequestMessage(HttpMethod.Get, settings.Endpoint.ToString().TrimEnd('/') + "/models");
        if (settings.ApiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.ApiKey);
        }

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
}
