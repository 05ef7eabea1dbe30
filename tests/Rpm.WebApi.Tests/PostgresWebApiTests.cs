using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rpm.Storage.Tests.Infrastructure;

namespace Rpm.WebApi.Tests;

/// <summary>
/// The sample with <c>ConnectionStrings:rpm</c> set: two instances of the app (two hosts) over one PostgreSQL database
/// and its build queue, against one fake endpoint that also fails the way real endpoints do.
/// </summary>
/// <remarks>Each test has a database of its own (xunit makes an instance per test).</remarks>
public sealed class PostgresWebApiTests : IAsyncLifetime
{
    private const string Question = "Would I like Ronin (1998)? Genres: Action, Crime, Thriller.";
    private readonly FaultyEndpoint _endpoint = new();
    private PostgresServer _server = null!;
    private string _database = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.GetAsync();
        _database = await _server.CreateDatabaseAsync();
    }

    public async Task DisposeAsync()
    {
        await _endpoint.DisposeAsync();
        await _server.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task An_upload_to_one_host_is_built_once_polled_on_the_other_personalizes_both_and_erasure_on_either_is_everywhere()
    {
        await using WebApiFactory a = Host("host-a");
        await using WebApiFactory b = Host("host-b");
        using HttpClient clientA = a.CreateClient();
        using HttpClient clientB = b.CreateClient();

        HttpResponseMessage accepted = await clientA.PostAsJsonAsync("/users/alice/history", WebApiFixture.History());
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        string jobId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        // The same upload on the other host joins the job, or, once built, completes with the saved model: paid once.
        HttpResponseMessage again = await clientB.PostAsJsonAsync("/users/alice/history", WebApiFixture.History());
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        string againId = (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await b.Services.GetRequiredService<RpmBuildQueue>().WaitAsync(againId, timeout.Token);
        JsonElement job = await clientA.GetFromJsonAsync<JsonElement>(again.Headers.Location);   // host B's job, read on host A
        Assert.Equal("Succeeded", job.GetProperty("state").GetString());
        Assert.Equal(1, job.GetProperty("modelVersion").GetInt64());
        Assert.Equal(2 * 4 + 1, _endpoint.Model.CallCount);
        Assert.Equal(jobId.Split('.')[1], againId.Split('.')[1]);

        foreach (HttpClient client in new[] { clientA, clientB })
        {
            Assert.Equal(4, (await client.GetFromJsonAsync<JsonElement>("/users/alice")).GetProperty("historyItems").GetInt32());
            HttpResponseMessage chat = await client.PostAsJsonAsync("/users/alice/chat", new { message = Question });
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            JsonObject turn = _endpoint.Bodies.Last(body => !FaultyEndpoint.IsStageCall(body));
            Assert.Contains("Heat (1995)", FaultyEndpoint.SystemText(turn), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await clientB.DeleteAsync("/users/alice")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await clientA.GetAsync("/users/alice")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await clientA.GetAsync("/users/alice/export")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await clientA.GetAsync(again.Headers.Location)).StatusCode);

        HealthReportEntry store = (await a.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["rpm-store"];
        Assert.Equal(HealthStatus.Healthy, store.Status);
        Assert.Equal(PostgresRpmSchema.CurrentVersion, store.Data["schemaVersion"]);
    }

    [Fact]
    public async Task An_endpoint_that_is_down_during_a_build_shows_the_reason_while_retrying_fails_after_the_attempts_and_never_quotes_the_server()
    {
        _endpoint.FaultFor = body => FaultyEndpoint.IsStageCall(body) ? Fault.Unavailable() : null;
        await using WebApiFactory app = Host("host-a", new Dictionary<string, string>
        {
            ["Rpm:Queue:MaxAttempts"] = "2",
            ["Rpm:Queue:RetryDelay"] = "00:00:00.200",
            ["Rpm:Queue:PollInterval"] = "00:00:00.200",
        });
        using HttpClient client = app.CreateClient();

        HttpResponseMessage accepted = await client.PostAsJsonAsync("/users/bob/history", WebApiFixture.History("b"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        string jobId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await app.Services.GetRequiredService<RpmBuildQueue>().WaitAsync(jobId, timeout.Token);

        JsonElement job = await client.GetFromJsonAsync<JsonElement>(accepted.Headers.Location);
        Assert.Equal("Failed", job.GetProperty("state").GetString());
        Assert.Equal(2, job.GetProperty("attempts").GetInt32());
        string error = job.GetProperty("error").GetString()!;
        Assert.Contains("503", error, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-PROMPT", error, StringComparison.Ordinal);   // the endpoint's body quoted the prompt
        Assert.DoesNotContain(_endpoint.Endpoint.Authority, error, StringComparison.Ordinal);   // nor its internal address
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/users/bob")).StatusCode);

        // The endpoint is back: the same upload is a new job, built once.
        _endpoint.Reset();
        HttpResponseMessage retried = await client.PostAsJsonAsync("/users/bob/history", WebApiFixture.History("b"));
        string retriedId = (await retried.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.NotEqual(jobId, retriedId);
        Assert.Equal(RpmBuildJobState.Succeeded, (await app.Services.GetRequiredService<RpmBuildQueue>().WaitAsync(retriedId, timeout.Token)).State);
    }

    private WebApiFactory Host(string worker, Dictionary<string, string>? settings = null)
    {
        settings ??= [];
        settings["Rpm:Queue:WorkerName"] = worker;
        settings.TryAdd("Rpm:Queue:PollInterval", "00:00:00.500");
        return new WebApiFactory(_endpoint, postgres: _database, settings: settings);
    }
}
