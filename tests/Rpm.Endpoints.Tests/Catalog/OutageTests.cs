using Rpm.Endpoints.Tests.Server;

namespace Rpm.Endpoints.Tests.Catalog;

/// <summary>A 30-second outage in the middle of a build, with Rpm.OpenAI's default resilience: the build completes and no call is paid twice.</summary>
[Collection(OutageCollection.Name)]
public sealed class OutageTests(MiniLm miniLm)
{
    [Fact]
    public async Task A_build_rides_out_a_30_second_outage_and_pays_each_call_once()
    {
        await using Harness harness = await Harness.StartAsync(miniLm, fastRetries: false);
        int answered = 0;
        harness.Server.AfterReply = (_, reply) =>
        {
            if (reply.Status == 200 && Interlocked.Increment(ref answered) == 5)
            {
                harness.Server.StartOutage(TimeSpan.FromSeconds(30));
            }
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        UserModel model = await harness.BuildAsync(harness.Pipeline(), items: 8);

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(30), $"The build took {clock.Elapsed}; the outage was not ridden out.");
        Assert.Equal(8, model.Paths.Count);
        Assert.Equal(2 * 8 + 1, harness.Server.PaidCalls);
        Assert.Equal(2 * 8 + 1, model.BuildUsage.Calls);
        Assert.True(harness.Server.ChatRequests > 2 * 8 + 1);
        Assert.Contains(harness.Retries, r => r.Reason == EndpointRetryReason.ServerError && r.StatusCode == 503);
    }
}
