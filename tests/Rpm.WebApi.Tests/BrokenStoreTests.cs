using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rpm.WebApi.Tests;

/// <summary>The sample over a store file that is not a database: health says so, chat still answers.</summary>
public sealed class BrokenStoreTests : IAsyncLifetime
{
    private readonly FaultyEndpoint _endpoint = new();
    private WebApiFactory _factory = null!;

    public async Task InitializeAsync()
    {
        string folder = Path.Combine(Path.GetTempPath(), "rpm-webapi-broken-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "rpm.db");
        await File.WriteAllTextAsync(path, "this file is not a SQLite database, and it is long enough to have a header of sixteen bytes and more");
        _factory = new WebApiFactory(_endpoint, path);
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _endpoint.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_factory.StorePath)!, recursive: true);
    }

    [Fact]
    public async Task Health_is_unhealthy_naming_the_store_and_chat_is_answered_unpersonalized()
    {
        using HttpClient client = _factory.CreateClient();

        HttpResponseMessage health = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("Unhealthy", await health.Content.ReadAsStringAsync());
        HealthReport report = await _factory.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        HealthReportEntry store = report.Entries["rpm-store"];
        Assert.Equal(HealthStatus.Unhealthy, store.Status);
        Assert.Contains("not a SQLite database", store.Description, StringComparison.Ordinal);
        Assert.IsType<RpmStoreException>(store.Exception);
        Assert.Equal(HealthStatus.Healthy, report.Entries["rpm-chat"].Status);

        HttpResponseMessage chat = await client.PostAsJsonAsync("/users/alice/chat", new { message = "Would I like Heat (1995)?" });
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);

        // A history upload cannot be queued in a file that is not a database: 503 with Retry-After, and no path in the answer.
        HttpResponseMessage upload = await client.PostAsJsonAsync("/users/alice/history", WebApiFixture.History());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, upload.StatusCode);
        Assert.True(upload.Headers.Contains("Retry-After"));
        Assert.DoesNotContain(_factory.StorePath, await upload.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
