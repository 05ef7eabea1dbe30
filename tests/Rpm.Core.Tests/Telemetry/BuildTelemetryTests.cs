using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Tests.Telemetry;

/// <summary>What an operator sees of a build: the spans, metrics and log events, for a clean build and for each way one degrades or fails.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class BuildTelemetryTests(MiniLmFixture miniLm)
{
    private const string UserId = "alice@example.com";
    private static readonly string Pseudonym = RpmTelemetry.PseudonymizeUserId(UserId);

    [Fact]
    public async Task A_build_has_a_span_per_stage_under_rpm_build_and_its_model_calls_and_tokens_are_measured_by_stage()
    {
        using var telemetry = new TelemetryCapture();
        var calls = telemetry.Collect<long>(RpmTelemetry.ModelCallsMetric);
        var tokens = telemetry.Collect<int>(RpmTelemetry.TokenUsageMetric);
        var callDurations = telemetry.Collect<double>(RpmTelemetry.OperationDurationMetric);
        var builds = telemetry.Collect<double>(RpmTelemetry.BuildDurationMetric);
        RpmPipeline pipeline = telemetry.Pipeline(new FakeChatClient(), miniLm.Generator);

        using (telemetry.StartRoot())
        {
            await pipeline.BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(4));
        }

        Activity build = telemetry.Span("rpm.build");
        Assert.Equal(telemetry.Span("test").SpanId, build.ParentSpanId);
        Assert.Equal(Pseudonym, build.GetTagItem(RpmTelemetry.UserIdAttribute));
        Assert.Equal(
            ["rpm.embeddings", "rpm.factor_construction", "rpm.feature_extraction", "rpm.reasoning_path", "rpm.statistics"],
            telemetry.ChildrenOf(build).Select(s => s.DisplayName).Order(StringComparer.Ordinal));
        Assert.Equal("feature_extraction", telemetry.Span("rpm.feature_extraction").GetTagItem(RpmTelemetry.StageAttribute));
        Assert.All(telemetry.Spans, s => Assert.Equal(ActivityStatusCode.Unset, s.Status));
        Assert.DoesNotContain(telemetry.Spans.SelectMany(s => s.TagObjects), t => t.Value?.ToString()?.Contains("alice", StringComparison.Ordinal) == true);

        // 2N + 1 calls; each call's tokens (the fake reports 100 in, 20 out) and duration, tagged as the GenAI conventions say.
        Assert.Equal(4, Sum(calls, "feature_extraction"));
        Assert.Equal(1, Sum(calls, "factor_construction"));
        Assert.Equal(4, Sum(calls, "reasoning_path"));
        Assert.Equal(9 * 100, tokens.GetMeasurementSnapshot().Where(m => Equals(m.Tags["gen_ai.token.type"], "input")).Sum(m => m.Value));
        Assert.Equal(9 * 20, tokens.GetMeasurementSnapshot().Where(m => Equals(m.Tags["gen_ai.token.type"], "output")).Sum(m => m.Value));
        Assert.All(tokens.GetMeasurementSnapshot(), m =>
        {
            Assert.Equal("chat", m.Tags["gen_ai.operation.name"]);
            Assert.Equal("fake-model", m.Tags["gen_ai.request.model"]);
            Assert.Equal("fake", m.Tags["gen_ai.provider.name"]);
            Assert.Equal("fake-model", m.Tags["gen_ai.response.model"]);
        });
        Assert.Equal(9, callDurations.GetMeasurementSnapshot().Count);
        Assert.All(callDurations.GetMeasurementSnapshot(), m => Assert.False(m.Tags.ContainsKey("error.type")));
        var buildDuration = Assert.Single(builds.GetMeasurementSnapshot());
        Assert.Equal("build", buildDuration.Tags["rpm.operation"]);
        Assert.False(buildDuration.Tags.ContainsKey("error.type"));

        var completed = Assert.Single(telemetry.Events(2001));
        Assert.Equal(LogLevel.Information, completed.Level);
        Assert.Equal("Rpm.RpmPipeline", completed.Category);
        Assert.Equal(Pseudonym, completed.GetStructuredStateValue("UserId"));
        Assert.Equal("9", completed.GetStructuredStateValue("Calls"));
        Assert.DoesNotContain(telemetry.Logs.GetSnapshot(), r => r.Message.Contains("alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_deferred_stage_is_not_a_failure_its_spans_stay_unset_and_no_failed_call_or_build_is_measured()
    {
        using var telemetry = new TelemetryCapture();
        var calls = telemetry.Collect<long>(RpmTelemetry.ModelCallsMetric);
        var builds = telemetry.Collect<double>(RpmTelemetry.BuildDurationMetric);
        var chat = new FakeChatClient { Fail = r => r.Stage == RpmStage.FactorConstruction ? new RpmCallDeferredException("The answer is not available yet.") : null };
        RpmPipeline pipeline = telemetry.Pipeline(chat, miniLm.Generator);

        using (telemetry.StartRoot())
        {
            await Assert.ThrowsAsync<RpmCallDeferredException>(() => pipeline.BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(4)));
        }

        Assert.Equal(ActivityStatusCode.Unset, telemetry.Span("rpm.factor_construction").Status);
        Assert.Equal(ActivityStatusCode.Unset, telemetry.Span("rpm.build").Status);
        Assert.DoesNotContain(telemetry.Spans, s => s.Events.Any(e => e.Name == "exception"));
        Assert.DoesNotContain(calls.GetMeasurementSnapshot(), m => m.Tags.ContainsKey("error.type"));
        Assert.DoesNotContain(calls.GetMeasurementSnapshot(), m => Equals(m.Tags[RpmTelemetry.StageAttribute], "factor_construction"));
        Assert.Empty(builds.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_stage_whose_model_keeps_failing_marks_its_span_and_the_build_failed_with_the_exception_and_no_raw_user_id()
    {
        using var telemetry = new TelemetryCapture();
        var calls = telemetry.Collect<long>(RpmTelemetry.ModelCallsMetric);
        var builds = telemetry.Collect<double>(RpmTelemetry.BuildDurationMetric);
        var chat = new FakeChatClient { Fail = r => r.Stage == RpmStage.FactorConstruction ? new HttpRequestException("503 Service Unavailable") : null };
        RpmPipeline pipeline = telemetry.Pipeline(chat, miniLm.Generator);

        using (telemetry.StartRoot())
        {
            // Factor construction's item is the user, so the exception names the user: the span must not.
            var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(4)));
            Assert.Contains($"'{UserId}'", ex.Message, StringComparison.Ordinal);
        }

        Activity factors = telemetry.Span("rpm.factor_construction");
        Assert.Equal(ActivityStatusCode.Error, factors.Status);
        Assert.Equal("Rpm.RpmStageException", factors.GetTagItem("error.type"));
        ActivityEvent exception = Assert.Single(factors.Events, e => e.Name == "exception");
        var tags = exception.Tags.ToDictionary(t => t.Key, t => t.Value?.ToString());
        Assert.Equal("Rpm.RpmStageException", tags["exception.type"]);
        Assert.Contains($"'{Pseudonym}'", tags["exception.message"], StringComparison.Ordinal);
        Assert.Contains("503 Service Unavailable", tags["exception.message"], StringComparison.Ordinal);
        Assert.Contains("HttpRequestException", tags["exception.stacktrace"], StringComparison.Ordinal);
        Assert.DoesNotContain(UserId, tags["exception.message"], StringComparison.Ordinal);
        Assert.DoesNotContain(UserId, tags["exception.stacktrace"], StringComparison.Ordinal);
        Assert.DoesNotContain(UserId, factors.StatusDescription, StringComparison.Ordinal);

        Activity build = telemetry.Span("rpm.build");
        Assert.Equal(ActivityStatusCode.Error, build.Status);
        Assert.Single(build.Events, e => e.Name == "exception");
        Assert.Equal(ActivityStatusCode.Unset, telemetry.Span("rpm.feature_extraction").Status);
        Assert.DoesNotContain(telemetry.Spans, s => s.DisplayName == "rpm.reasoning_path");

        var failedCall = Assert.Single(calls.GetMeasurementSnapshot(), m => Equals(m.Tags[RpmTelemetry.StageAttribute], "factor_construction"));
        Assert.Equal("System.Net.Http.HttpRequestException", failedCall.Tags["error.type"]);
        Assert.Equal("Rpm.RpmStageException", Assert.Single(builds.GetMeasurementSnapshot()).Tags["error.type"]);
    }

    [Fact]
    public async Task A_build_that_resumes_reports_the_results_it_read_back_from_its_checkpoints()
    {
        using var telemetry = new TelemetryCapture();
        var checkpoints = new InMemoryBuildCheckpointStore();
        var chat = new FakeChatClient { Fail = r => r.Stage == RpmStage.FactorConstruction ? new HttpRequestException("503") : null };
        RpmPipeline pipeline = telemetry.Pipeline(chat, miniLm.Generator, checkpoints: checkpoints);
        List<HistoryItem> history = TestPipelines.MovieHistory(4);
        await Assert.ThrowsAsync<RpmStageException>(() => pipeline.BuildUserModelAsync(UserId, TestPipelines.Rating, history));
        Assert.Empty(telemetry.Events(2002));

        chat.Fail = null;
        var resumed = telemetry.Collect<long>(RpmTelemetry.ResumedResultsMetric);
        var calls = telemetry.Collect<long>(RpmTelemetry.ModelCallsMetric);
        using (telemetry.StartRoot())
        {
            await pipeline.BuildUserModelAsync(UserId, TestPipelines.Rating, history);
        }

        // The first run paid for the 4 items' features; the second reads them back and pays for the rest only.
        var log = Assert.Single(telemetry.Events(2002));
        Assert.Equal(LogLevel.Information, log.Level);
        Assert.Equal("4", log.GetStructuredStateValue("Results"));
        Assert.Equal(Pseudonym, log.GetStructuredStateValue("UserId"));
        var measurement = Assert.Single(resumed.GetMeasurementSnapshot());
        Assert.Equal(4, measurement.Value);
        Assert.Equal("build", measurement.Tags["rpm.operation"]);
        Assert.Equal(4, telemetry.Span("rpm.build").GetTagItem("rpm.resumed_results"));
        Assert.Equal(0, Sum(calls, "feature_extraction"));
        Assert.Equal(1 + 4, calls.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task A_repair_turn_is_logged_with_stage_item_and_reason_and_counted()
    {
        using var telemetry = new TelemetryCapture();
        var repairs = telemetry.Collect<long>(RpmTelemetry.OutputRepairsMetric);
        var calls = telemetry.Collect<long>(RpmTelemetry.ModelCallsMetric);
        var chat = new FakeChatClient { Respond = r => r.Stage == RpmStage.FeatureExtraction && r.ItemId == "h1" && r.Attempt == 1 ? """{"features": []}""" : null };

        UserModel model = await telemetry.Pipeline(chat, miniLm.Generator).BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(4));

        var repair = Assert.Single(telemetry.Events(1001));
        Assert.Equal(LogLevel.Warning, repair.Level);
        Assert.Equal("Rpm.FeatureExtractor", repair.Category);
        Assert.Equal("feature_extraction", repair.GetStructuredStateValue("Stage"));
        Assert.Equal("h1", repair.GetStructuredStateValue("ItemId"));
        Assert.Equal("1", repair.GetStructuredStateValue("Attempt"));
        Assert.Equal("2", repair.GetStructuredStateValue("MaxAttempts"));
        Assert.Equal("invalid_output", repair.GetStructuredStateValue("Failure"));
        Assert.Contains("features", repair.GetStructuredStateValue("Reason"), StringComparison.Ordinal);
        var counted = Assert.Single(repairs.GetMeasurementSnapshot());
        Assert.Equal(1, counted.Value);
        Assert.Equal("feature_extraction", counted.Tags[RpmTelemetry.StageAttribute]);
        Assert.Equal("invalid_output", counted.Tags["rpm.failure"]);
        Assert.Equal(4 + 1, Sum(calls, "feature_extraction"));
        Assert.Equal(1, model.Diagnostics.OutputRepairs);
        Assert.Empty(telemetry.Events(1002));
    }

    [Fact]
    public async Task An_influence_judgment_left_out_on_the_last_attempt_is_logged_as_a_degraded_answer_and_counted()
    {
        using var telemetry = new TelemetryCapture();
        var degradations = telemetry.Collect<long>(RpmTelemetry.DegradationsMetric);
        RpmTask titles = RpmTask.Generation("titles", "Write the title the user gives a paper, from its abstract.");
        List<HistoryItem> history =
        [
            new("g1", "We study graph neural networks for molecules and their robustness.", "Robust graph networks for molecules"),
            new("g2", "A survey of reinforcement learning for robotics.", "Reinforcement learning in robotics: a survey"),
        ];
        var chat = new FakeChatClient { Respond = r => r.Stage == RpmStage.InfluenceJudgment ? WithoutInfluence(FakeChatClient.Answer(r), "g1") : null };

        UserModel model;
        using (telemetry.StartRoot())
        {
            model = await telemetry.Pipeline(chat, miniLm.Generator).BuildUserModelAsync(UserId, titles, history);
        }

        // A generation build has its own span for the judgments, under the build.
        Activity judgmentSpan = telemetry.Span("rpm.influence_judgment");
        Assert.Equal("influence_judgment", judgmentSpan.GetTagItem(RpmTelemetry.StageAttribute));
        Assert.Contains(judgmentSpan, telemetry.ChildrenOf(telemetry.Span("rpm.build")));

        // One judgment call covers both items (10 a call by default): its item id names both.
        Assert.Equal("g1,g2", Assert.Single(telemetry.Events(1001)).GetStructuredStateValue("ItemId"));
        var degraded = Assert.Single(telemetry.Events(1002));
        Assert.Equal(LogLevel.Warning, degraded.Level);
        Assert.Equal("g1,g2", degraded.GetStructuredStateValue("ItemId"));
        Assert.Equal("2", degraded.GetStructuredStateValue("Attempt"));
        Assert.Contains("influence judgment(s) missing", degraded.GetStructuredStateValue("Degradations"), StringComparison.Ordinal);
        Assert.True(model.Diagnostics.MissingJudgments > 0);
        Assert.Equal(model.Diagnostics.MissingJudgments, degradations.GetMeasurementSnapshot().Where(m => Equals(m.Tags["rpm.degradation"], "missing_judgment")).Sum(m => m.Value));
    }

    [Fact]
    public async Task Factors_formed_from_the_suggested_categories_are_logged_and_counted()
    {
        using var telemetry = new TelemetryCapture();
        var degradations = telemetry.Collect<long>(RpmTelemetry.DegradationsMetric);
        var chat = new FakeChatClient { Respond = r => r.Stage == RpmStage.FactorConstruction ? "This user clearly loves science fiction and dislikes romance." : null };

        UserModel model = await telemetry.Pipeline(chat, miniLm.Generator).BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(4));

        Assert.True(model.Diagnostics.FactorsFromSuggestedCategories);
        var log = Assert.Single(telemetry.Events(2004));
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.Equal(Pseudonym, log.GetStructuredStateValue("UserId"));
        Assert.Equal(model.Diagnostics.FactorFallbackReason, log.GetStructuredStateValue("Reason"));
        var counted = Assert.Single(degradations.GetMeasurementSnapshot(), m => Equals(m.Tags["rpm.degradation"], "factors_from_suggested_categories"));
        Assert.Equal(1, counted.Value);
        Assert.Equal("factor_construction", counted.Tags[RpmTelemetry.StageAttribute]);

        // The unusable answer was repaired once before the rule took over: that turn is logged under the factor stage, with the user pseudonymized.
        var repair = Assert.Single(telemetry.Events(1001));
        Assert.Equal("Rpm.FactorConstructor", repair.Category);
        Assert.Equal(Pseudonym, repair.GetStructuredStateValue("ItemId"));
    }

    [Fact]
    public async Task An_item_the_content_filter_stops_is_logged_as_left_out_and_counted()
    {
        using var telemetry = new TelemetryCapture();
        var degradations = telemetry.Collect<long>(RpmTelemetry.DegradationsMetric);
        var chat = new ContentFilter(new FakeChatClient(), r => r.Stage == RpmStage.FeatureExtraction && r.ItemId == "h2");

        UserModel model = await telemetry.Pipeline(chat, miniLm.Generator).BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(4));

        Assert.Equal(1, model.Diagnostics.ItemsExcluded);
        var log = Assert.Single(telemetry.Events(2003));
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.Equal("h2", log.GetStructuredStateValue("ItemId"));
        Assert.Equal(Pseudonym, log.GetStructuredStateValue("UserId"));
        Assert.Equal("feature_extraction", log.GetStructuredStateValue("Stage"));
        Assert.StartsWith("the content filter stopped it", log.GetStructuredStateValue("Reason"), StringComparison.Ordinal);
        var counted = Assert.Single(degradations.GetMeasurementSnapshot(), m => Equals(m.Tags["rpm.degradation"], "item_excluded"));
        Assert.Equal(1, counted.Value);
        Assert.Equal("feature_extraction", counted.Tags[RpmTelemetry.StageAttribute]);
    }

    [Fact]
    public async Task A_reasoning_path_kept_ungrounded_after_the_repair_is_counted_as_a_degradation_of_its_stage()
    {
        using var telemetry = new TelemetryCapture();
        var degradations = telemetry.Collect<long>(RpmTelemetry.DegradationsMetric);
        var chat = new FakeChatClient { Mistake = ReasoningMistake.WrongValue, MistakeAfterRepair = true };

        UserModel model = await telemetry.Pipeline(chat, miniLm.Generator).BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(2));

        Assert.Equal(2, model.Diagnostics.UngroundedPaths);
        var counted = degradations.GetMeasurementSnapshot().Where(m => Equals(m.Tags["rpm.degradation"], "ungrounded_path")).ToList();
        Assert.Equal(2, counted.Sum(m => m.Value));
        Assert.All(counted, m => Assert.Equal("reasoning_path", m.Tags[RpmTelemetry.StageAttribute]));
    }

    [Fact]
    public async Task Adding_history_that_rebuilds_the_factors_is_logged_and_traced_under_rpm_add_history()
    {
        using var telemetry = new TelemetryCapture();
        var builds = telemetry.Collect<double>(RpmTelemetry.BuildDurationMetric);
        RpmPipeline pipeline = telemetry.Pipeline(new FakeChatClient(), miniLm.Generator, o => o.FactorRebuildThreshold = 0.3);
        await pipeline.BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(4));
        Assert.Empty(telemetry.Events(2006));

        // Documentaries: the fake files them under a factor this user does not have yet, so half of their features fit none.
        using (telemetry.StartRoot())
        {
            await pipeline.AddHistoryAsync(UserId, [new("d1", "Hoop Dreams (1994). Genres: Documentary.", "4.0"), new("d2", "Shoah (1985). Genres: Documentary.", "4.0")]);
        }

        var log = Assert.Single(telemetry.Events(2006));
        Assert.Equal(Pseudonym, log.GetStructuredStateValue("UserId"));
        Assert.Equal("2", log.GetStructuredStateValue("NewItems"));
        Assert.Equal("2", log.GetStructuredStateValue("Unassigned"));
        Assert.Equal("4", log.GetStructuredStateValue("NewFeatures"));
        Activity update = telemetry.Span("rpm.add_history");
        Assert.Equal(true, update.GetTagItem("rpm.factors_rebuilt"));
        Assert.Contains(telemetry.ChildrenOf(update), s => s.DisplayName == "rpm.factor_construction");
        Assert.Contains(builds.GetMeasurementSnapshot(), m => Equals(m.Tags["rpm.operation"], "add_history"));
        Assert.Equal("add_history", Assert.Single(telemetry.Events(2001), r => r.GetStructuredStateValue("Operation") == "add_history").GetStructuredStateValue("Operation"));
    }

    [Fact]
    public async Task With_EmitRawUserIds_spans_and_log_messages_carry_the_user_id_as_given()
    {
        using var telemetry = new TelemetryCapture();
        RpmPipeline pipeline = telemetry.Pipeline(new FakeChatClient(), miniLm.Generator, o => o.EmitRawUserIds = true);

        using (telemetry.StartRoot())
        {
            await pipeline.BuildUserModelAsync(UserId, TestPipelines.Rating, TestPipelines.MovieHistory(3));
        }

        Assert.Equal(UserId, telemetry.Span("rpm.build").GetTagItem(RpmTelemetry.UserIdAttribute));
        Assert.Equal(UserId, Assert.Single(telemetry.Events(2001)).GetStructuredStateValue("UserId"));
    }

    private static long Sum(Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long> collector, string stage) =>
        collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags[RpmTelemetry.StageAttribute], stage)).Sum(m => m.Value);

    private static string WithoutInfluence(string answer, string itemId)
    {
        JsonObject json = JsonNode.Parse(answer)!.AsObject();
        foreach (JsonNode? judgment in json["items"]!.AsArray().Single(i => i!["itemId"]!.GetValue<string>() == itemId)!["judgments"]!.AsArray())
        {
            judgment!.AsObject().Remove("influential");
        }

        return json.ToJsonString();
    }

    /// <summary>Answers as a provider's content filter does (finish reason content_filter, no text) for the requests it matches.</summary>
    private sealed class ContentFilter(IChatClient inner, Func<FakeRequest, bool> stops) : DelegatingChatClient(inner)
    {
        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            List<ChatMessage> list = [.. messages];
            return stops(new FakeRequest(list, options, 1))
                ? Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, string.Empty)) { FinishReason = ChatFinishReason.ContentFilter })
                : base.GetResponseAsync(list, options, cancellationToken);
        }
    }
}
