using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Tests.Telemetry;

[Collection(MiniLmCollection.Name)]
public sealed class TelemetryNamesTests(MiniLmFixture miniLm)
{
    [Fact]
    public void A_user_id_pseudonym_is_the_head_of_its_SHA256_and_stable()
    {
        // sha256("alice@example.com") = ff8d9819fc0e12bf...: an operator can compute it with any tool.
        Assert.Equal("ff8d9819fc0e12bf", RpmTelemetry.PseudonymizeUserId("alice@example.com"));
        Assert.NotEqual(RpmTelemetry.PseudonymizeUserId("alice@example.com"), RpmTelemetry.PseudonymizeUserId("Alice@example.com"));
        Assert.Throws<ArgumentNullException>(() => RpmTelemetry.PseudonymizeUserId(null!));
    }

    [Fact]
    public async Task AddRpm_takes_the_containers_logger_and_meter_factories()
    {
        var services = new ServiceCollection();
        services.AddFakeLogging();
        services.AddMetrics();
        services.AddChatClient(new FakeChatClient());
        services.AddEmbeddingGenerator<string, Embedding<float>>(new RecordingEmbeddingGenerator(miniLm.Generator));
        services.AddRpm();
        using ServiceProvider provider = services.BuildServiceProvider();
        var meterFactory = provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var calls = new MetricCollector<long>(meterFactory, RpmTelemetry.MeterName, RpmTelemetry.ModelCallsMetric);
        using var builds = new MetricCollector<double>(meterFactory, RpmTelemetry.MeterName, RpmTelemetry.BuildDurationMetric);

        await provider.GetRequiredService<RpmPipeline>().BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(3));

        // The stages' instruments (model calls) and the pipeline's (build duration, the completion event) both reach the container's.
        Assert.Equal(2 * 3 + 1, calls.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Single(builds.GetMeasurementSnapshot());
        FakeLogCollector logs = provider.GetFakeLogCollector();
        Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 2001);
    }
}
