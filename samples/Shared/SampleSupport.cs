namespace Rpm.Samples;

/// <summary>What the console samples share: the bundled data's folder and a quick check that an endpoint answers.</summary>
internal static class SampleSupport
{
    /// <summary>Finds <c>samples/data</c> (the bundled MovieLens sets) above the program's folder.</summary>
    public static string FindData()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, "samples", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("samples/data (the bundled MovieLens sets) was not found above the program's folder.");
    }

    /// <summary>Whether an OpenAI-compatible server answers at <paramref name="endpoint"/> within 3 seconds (any HTTP answer counts).</summary>
    public static async Task<bool> IsReachableAsync(string endpoint, string? apiKey)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.TrimEnd('/') + "/models");
        if (apiKey is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        try
        {
            using HttpResponseMessage response = await http.SendAsync(request).ConfigureAwait(false);
            return true; // any HTTP answer means a server is there; a bad key shows up as a clear error later
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
