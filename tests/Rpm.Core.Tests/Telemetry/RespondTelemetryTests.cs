using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Tests.Telemetry;

/// <summary>What an operator sees of a response: its stage spans and duration, and a fallback's log event, counter and failed stage span.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class RespondTelemetryTests(MiniLmFixture miniLm)
{
    private const string UserId = "bob-1234";
    private const string Query = "movie: Aliens (1986). Genres: Action, Adventure, Horror, Sci-Fi.";

    [Fact]
    public async Task A_response_has_its_stage_spans_under_rpm_respond_and_is_measured()
    {
        using var telemetry = new TelemetryCapture();
        RpmPipeline pipeline = telemetry.Pipeline(new FakeChatClient(), miniLm.Generator);
        UserModel model = await pipeline.BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(6));
        var calls = telemetry.Collect<long>(RpmTelemetry.ModelCallsMetric);
        var responses = telemetry.Collect<double>(RpmTelemetry.RespondDurationMetric);

        using (telemetry.StartRoot())
        {
            await pipeline.RespondAsync(model, Query);
        }

        Activity respond = telemetry.Span("rpm.respond");
        Assert.Equal(RpmTelemetry.PseudonymizeUserId(UserId), respond.GetTagItem(RpmTelemetry.UserIdAttribute));
        Assert.Equal(["rpm.generation", "rpm.query_feature_extraction", "rpm.retrieval"], telemetry.ChildrenOf(respond).Select(s => s.DisplayName).Order(StringComparer.Ordinal));
        Assert.All(telemetry.Spans, s => Assert.Equal(ActivityStatusCode.Unset, s.Status));
        Assert.Equal(
            [("generation", 1L), ("query_feature_extraction", 1L)],
            calls.GetMeasurementSnapshot().GroupBy(m => (string)m.Tags[RpmTelemetry.StageAttribute]!).Select(g => (g.Key, g.Sum(m => m.Value))).OrderBy(g => g.Key, StringComparer.Ordinal));
        var measured = Assert.Single(responses.GetMeasurementSnapshot());
        Assert.Equal(false, measured.Tags["rpm.fallback"]);
        Assert.Empty(telemetry.Events(3001));
    }

    [Fact]
    public async Task A_rationale_kept_ungrounded_after_the_repair_is_counted_as_a_degradation_of_generation()
    {
        using var telemetry = new TelemetryCapture();
        var chat = new FakeChatClient();
        RpmPipeline pipeline = telemetry.Pipeline(chat, miniLm.Generator);
        UserModel model = await pipeline.BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(6));
        var degradations = telemetry.Collect<long>(RpmTelemetry.DegradationsMetric);
        chat.RationaleMistake = ReasoningMistake.WrongValue;
        chat.MistakeAfterRepair = true;

        RpmResponse response = await pipeline.RespondAsync(model, Query);

        Assert.False(response.IsGrounded);
        var counted = Assert.Single(degradations.GetMeasurementSnapshot());
        Assert.Equal("ungrounded_path", counted.Tags["rpm.degradation"]);
        Assert.Equal("generation", counted.Tags[RpmTelemetry.StageAttribute]);
    }

    [Fact]
    public async Task A_fallback_is_logged_and_counted_and_the_failed_stage_span_keeps_the_error_while_the_response_succeeds()
    {
        using var telemetry = new TelemetryCapture();
        var chat = new FakeChatClient();
        RpmPipeline pipeline = telemetry.Pipeline(chat, miniLm.Generator, o => o.FallbackToModelFree = true);
        UserModel model = await pipeline.BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(6));
        var fallbacks = telemetry.Collect<long>(RpmTelemetry.FallbacksMetric);
        var responses = telemetry.Collect<double>(RpmTelemetry.RespondDurationMetric);
        chat.Fail = r => r.Stage == RpmStage.Generation ? new HttpRequestException("503 Service Unavailable") : null;

        RpmResponse response;
        using (telemetry.StartRoot())
        {
            response = await pipeline.RespondAsync(model, new RpmQuery(Query, "q-7"));
        }

        Assert.True(response.IsFallback);
        var log = Assert.Single(telemetry.Events(3001));
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.Equal("q-7", log.GetStructuredStateValue("QueryId"));
        Assert.Equal(RpmTelemetry.PseudonymizeUserId(UserId), log.GetStructuredStateValue("UserId"));
        Assert.Equal("generation", log.GetStructuredStateValue("Stage"));
        Assert.Contains("503 Service Unavailable", log.GetStructuredStateValue("Reason"), StringComparison.Ordinal);
        var counted = Assert.Single(fallbacks.GetMeasurementSnapshot());
        Assert.Equal(1, counted.Value);
        Assert.Equal("generation", counted.Tags[RpmTelemetry.StageAttribute]);
        Assert.Equal(true, Assert.Single(responses.GetMeasurementSnapshot()).Tags["rpm.fallback"]);

        Activity generation = telemetry.Span("rpm.generation");
        Assert.Equal(ActivityStatusCode.Error, generation.Status);
        Assert.Contains(generation.Events, e => e.Name == "exception");
        Activity respond = telemetry.Span("rpm.respond");
        Assert.Equal(ActivityStatusCode.Unset, respond.Status);
        Assert.Equal("generation", respond.GetTagItem("rpm.fallback"));
    }
}
