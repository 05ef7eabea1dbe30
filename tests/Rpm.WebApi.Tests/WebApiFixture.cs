using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Rpm.WebApi.Tests;

/// <summary>One fake endpoint and one running sample app, shared by a test class (loading MiniLM takes a second).</summary>
public sealed class WebApiFixture : IAsyncLifetime
{
    public FaultyEndpoint Endpoint { get; } = new();

    public WebApiFactory Factory { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public static object[] History(string prefix = "m") =>
    [
        new { id = prefix + "1", input = "Heat (1995). Genres: Action, Crime, Thriller.", output = "4.5" },
        new { id = prefix + "2", input = "Notting Hill (1999). Genres: Comedy, Romance.", output = "2" },
        new { id = prefix + "3", input = "Gattaca (1997). Genres: Drama, Sci-Fi, Thriller.", output = "5" },
        new { id = prefix + "4", input = "Toy Story (1995). Genres: Animation, Children, Comedy.", output = "3" },
    ];

    public Task InitializeAsync()
    {
        Factory = new WebApiFactory(Endpoint);
        Client = Factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        await Endpoint.DisposeAsync();
    }

    /// <summary>Uploads a history and waits for its build job (through the queue, not by polling with sleeps), then reads the job over HTTP.</summary>
    public async Task<(HttpResponseMessage Accepted, JsonElement Job)> UploadAndWaitAsync(string userId, object[] history)
    {
        HttpResponseMessage accepted = await Client.PostAsJsonAsync($"/users/{userId}/history", history);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        string id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await Factory.Services.GetRequiredService<RpmBuildQueue>().WaitAsync(id, timeout.Token);
        JsonElement job = await Client.GetFromJsonAsync<JsonElement>(accepted.Headers.Location!);
        return (accepted, job);
    }
}
