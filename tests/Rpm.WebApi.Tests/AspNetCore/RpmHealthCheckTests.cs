using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Rpm.Tests.Fakes;

namespace Rpm.WebApi.Tests.AspNetCore;

public sealed class RpmHealthCheckTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task The_chat_probe_is_paid_once_per_cache_duration_not_on_every_check()
    {
        var chat = new FakeChatClient { Respond = _ => "OK" };
        await using ServiceProvider services = Services(chat, o => o.CacheDuration = TimeSpan.FromMinutes(1));
        HealthCheckService health = services.GetRequiredService<HealthCheckService>();

        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        Assert.Equal(1, chat.CallCount);

        _time.Advance(TimeSpan.FromSeconds(61));
        await health.CheckHealthAsync();
        Assert.Equal(2, chat.CallCount);
        Assert.Equal(4, chat.Requests[0].Options!.MaxOutputTokens);
    }

    [Fact]
    public async Task Concurrent_checks_share_one_probe()
    {
        var release = new TaskCompletionSource();
        var chat = new FakeChatClient { Respond = _ => "OK", Gate = (_, ct) => release.Task.WaitAsync(ct) };
        await using ServiceProvider services = Services(chat, o => o.CacheDuration = TimeSpan.FromMinutes(1));
        HealthCheckService health = services.GetRequiredService<HealthCheckService>();

        Task<HealthReport>[] checks = [.. Enumerable.Range(0, 5).Select(_ => health.CheckHealthAsync())];
        release.SetResult();
        HealthReport[] reports = await Task.WhenAll(checks);

        Assert.All(reports, r => Assert.Equal(HealthStatus.Healthy, r.Status));
        Assert.Equal(1, chat.CallCount);
    }

    [Fact]
    public async Task A_failing_or_hanging_endpoint_is_a_result_with_the_reason_never_a_throw()
    {
        var chat = new FakeChatClient { Fail = _ => new RpmEndpointException("http://x/v1 answered 401: invalid key", 401, "invalid key", null, null) };
        await using ServiceProvider failing = Services(chat, o => o.CacheDuration = TimeSpan.Zero);
        HealthReportEntry refused = (await failing.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["rpm-chat"];
        Assert.Equal(HealthStatus.Unhealthy, refused.Status);
        Assert.Contains("HTTP 401", refused.Description, StringComparison.Ordinal);
        Assert.Equal(401, refused.Data["endpointStatus"]);

        var limited = new FakeChatClient { Fail = _ => new RpmRateLimitedException("429", "slow down", TimeSpan.FromSeconds(4), null, null) };
        await using ServiceProvider limiting = Services(limited, o => o.CacheDuration = TimeSpan.Zero);
        HealthReportEntry degraded = (await limiting.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["rpm-chat"];
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains("retry after 4 s", degraded.Description, StringComparison.Ordinal);

        var hanging = new FakeChatClient { Gate = (_, ct) => Task.Delay(Timeout.Infinite, ct) };
        await using ServiceProvider slow = Services(hanging, o => o.Timeout = TimeSpan.FromMilliseconds(200), failureStatus: HealthStatus.Degraded);
        HealthReportEntry timedOut = (await slow.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["rpm-chat"];
        Assert.Equal(HealthStatus.Degraded, timedOut.Status);   // the registration's failure status
        Assert.Contains("did not answer within 0.2 s", timedOut.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_probe_is_kept_too_so_a_down_endpoint_is_not_probed_on_every_check()
    {
        var chat = new FakeChatClient { Fail = _ => new RpmRateLimitedException("429", "slow down", null, null, null) };
        await using ServiceProvider services = Services(chat, o => o.CacheDuration = TimeSpan.FromMinutes(1));
        HealthCheckService health = services.GetRequiredService<HealthCheckService>();

        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync()).Status);
        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync()).Status);
        Assert.Equal(1, chat.CallCount);
    }

    [Fact]
    public async Task With_observation_the_apps_own_calls_answer_for_the_endpoint_and_a_failed_one_is_confirmed_by_a_probe()
    {
        var model = new FakeChatClient { Respond = _ => "OK" };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_time);
        services.AddChatClient(model).UseRpmHealthObservation();
        services.AddHealthChecks().AddRpmChatCheck(configure: o => o.CacheDuration = TimeSpan.FromMinutes(1));
        await using ServiceProvider provider = services.BuildServiceProvider();
        IChatClient app = provider.GetRequiredService<IChatClient>();
        HealthCheckService health = provider.GetRequiredService<HealthCheckService>();

        await app.GetResponseAsync("hello");
        HealthReportEntry observed = (await health.CheckHealthAsync()).Entries["rpm-chat"];
        Assert.Equal(HealthStatus.Healthy, observed.Status);
        Assert.Equal(true, observed.Data["observed"]);
        Assert.Equal(1, model.CallCount);   // no probe was paid

        _time.Advance(TimeSpan.FromSeconds(5));
        model.Fail = _ => new RpmEndpointException("http://x/v1 answered 503", 503, "overloaded", null, null);
        await Assert.ThrowsAsync<RpmEndpointException>(() => app.GetResponseAsync("hello again"));
        HealthReportEntry confirmed = (await health.CheckHealthAsync()).Entries["rpm-chat"];
        Assert.Equal(HealthStatus.Unhealthy, confirmed.Status);
        Assert.Equal(3, model.CallCount);   // the failed call made a probe, which failed too

        _time.Advance(TimeSpan.FromSeconds(5));
        model.Fail = null;
        await app.GetResponseAsync("and again");
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Entries["rpm-chat"].Status);
        Assert.Equal(4, model.CallCount);
    }

    [Fact]
    public async Task A_missing_service_is_an_unhealthy_result_not_a_throw()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHealthChecks().AddRpmEmbeddingCheck().AddRpmStoreCheck();
        await using ServiceProvider provider = services.BuildServiceProvider();

        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Unhealthy, report.Entries["rpm-embeddings"].Status);
        Assert.Contains("IEmbeddingGenerator", report.Entries["rpm-embeddings"].Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["rpm-store"].Status);
    }

    [Fact]
    public async Task A_store_reports_its_schema_version_and_one_newer_than_this_host_is_unhealthy_and_options_are_checked_at_registration()
    {
        using var directory = new TempFolder();
        string path = Path.Combine(directory.Path, "rpm.db");
        HealthReportEntry fresh = await StoreCheckAsync(path);
        Assert.Equal(HealthStatus.Healthy, fresh.Status);
        Assert.Equal(SqliteRpmSchema.CurrentVersion, fresh.Data["schemaVersion"]);  // the probe's read was the file's first use: it created the schema

        // A newer host migrated the file past this host's version.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=false"))
        {
            await connection.OpenAsync();
            await using var bump = connection.CreateCommand();
            bump.CommandText = $"INSERT INTO rpm_schema_version (version, description, applied_at) VALUES ({SqliteRpmSchema.CurrentVersion + 1}, 'from a newer host', '2027-01-01');";
            await bump.ExecuteNonQueryAsync();
        }

        HealthReportEntry newer = await StoreCheckAsync(path);
        Assert.Equal(HealthStatus.Unhealthy, newer.Status);
        Assert.Contains($"{SqliteRpmSchema.CurrentVersion + 1}", newer.Description, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddHealthChecks().AddRpmChatCheck(configure: o => o.Timeout = TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddHealthChecks().AddRpmStoreCheck(configure: o => o.Timeout = TimeSpan.Zero));
    }

    private static async Task<HealthReportEntry> StoreCheckAsync(string path)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IChatClient>(new FakeChatClient());
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new FixedEmbeddings());
        services.AddRpm().UseSqliteStore(path);
        services.AddHealthChecks().AddRpmStoreCheck();
        await using ServiceProvider provider = services.BuildServiceProvider();
        return (await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["rpm-store"];
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("rpm-health-").FullName;

        public void Dispose()
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(Path, recursive: true);
        }
    }

    private ServiceProvider Services(IChatClient chat, Action<RpmChatHealthCheckOptions> configure, HealthStatus? failureStatus = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton(chat);
        services.AddHealthChecks().AddRpmChatCheck(failureStatus: failureStatus, configure: configure);
        return services.BuildServiceProvider();
    }

    private sealed class FixedEmbeddings : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>([.. values.Select(_ => new Embedding<float>(new float[] { 1, 0 }))]));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
