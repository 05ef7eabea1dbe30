using Microsoft.Extensions.AI;
using System.Text.Json.Nodes;
using Rpm.Tests.Fakes;

namespace Rpm.OpenAI.Batch.Tests;

public sealed class BatchBuildTests
{
    private static int Lines(FakeBatchServer server) => server.Submitted.Sum(s => s.Lines.Count);

    private static IEnumerable<string> CustomIds(FakeBatchServer server) => server.Submitted.SelectMany(s => s.Lines).Select(l => l["custom_id"]!.GetValue<string>());

    [Fact]
    public async Task Several_users_are_built_in_three_waves_and_no_request_is_paid_twice()
    {
        await using var harness = new BatchHarness();

        // Answers kept for audit: the end of this test rebuilds a deleted model from them (BatchStreamTests shows a
        // compacted file, which pays for such a user again).
        using OpenAIBatchBuilder builder = harness.Builder(o => o.KeepAnswersForAudit = true);
        RpmPipeline pipeline = harness.Pipeline(builder);
        List<BatchUser> users = BatchHarness.Users(3);
        int items = users.Sum(u => u.History.Count);
        var reports = new List<BatchWaveProgress>();

        BatchBuildResult result = await builder.BuildAsync(pipeline, users, new SynchronousProgress<BatchWaveProgress>(reports.Add));

        Assert.True(result.Succeeded, string.Join("; ", result.Failures.Select(f => $"{f.Key}: {f.Value.Message}")));
        Assert.Equal(["u1", "u2", "u3"], result.BuiltUserIds);

        // Features of every user, then every user's factors, then every reasoning path: one batch per wave.
        Assert.Equal(3, result.Waves);
        Assert.Equal([items, 3, items], harness.Server.Submitted.Select(s => s.Lines.Count));
        Assert.Equal(2 * items + 3, result.RequestsSubmitted);

        // No request was sent or answered twice.
        Assert.Equal(Lines(harness.Server), CustomIds(harness.Server).Distinct().Count());
        Assert.Equal(harness.Server.Answered.Count, harness.Server.Answered.Distinct().Count());
        Assert.Equal(2 * items + 3, harness.Server.Answered.Count);

        // The build's accounting: each user's model counts its calls and the tokens the batch lines reported.
        foreach (BatchUser user in users)
        {
            UserModel model = (await harness.Store.GetAsync(user.UserId))!;
            Assert.Equal(user.History.Count, model.Paths.Count);
            Assert.Equal((2 * user.History.Count) + 1, model.BuildUsage.Calls);
            Assert.Equal(100L * model.BuildUsage.Calls, model.BuildUsage.InputTokens);
            Assert.Equal("gpt-4o-mini", model.ChatModelId);
        }

        // One report per wave, and a last one with nothing left to send.
        Assert.Equal([1, 2, 3, 3], reports.Select(r => r.Wave));
        Assert.Equal([items, 3, items, 0], reports.Select(r => r.RequestsSubmitted));
        Assert.Equal([0, items, 3, items], reports.Select(r => r.RequestsAnswered));
        Assert.Equal(3, reports[^1].UsersBuilt);
        Assert.Equal(0, reports[^1].UsersWaiting);

        // A second run with the same state file has nothing to do and pays nothing.
        BatchBuildResult again = await builder.BuildAsync(pipeline, users);
        Assert.Equal(0, again.Waves);
        Assert.Equal(3, harness.Server.Submitted.Count);

        // A model that is gone from the store (another store, a deleted file) is built again from the answers kept for
        // audit, still without a batch.
        Assert.True(await harness.Store.DeleteAsync("u2"));
        BatchBuildResult rebuilt = await builder.BuildAsync(pipeline, users);
        Assert.True(rebuilt.Succeeded);
        Assert.Equal(0, rebuilt.Waves);
        Assert.Equal(3, harness.Server.Submitted.Count);
        Assert.Equal(users[1].History.Count, (await harness.Store.GetAsync("u2"))!.Paths.Count);
    }

    [Fact]
    public async Task Each_line_carries_exactly_the_request_the_synchronous_OpenAI_client_sends()
    {
        // The same user built synchronously through Rpm.OpenAI against a chat-completions endpoint ...
        var syncModel = new FakeChatClient("gpt-4o-mini");
        await using var sync = new FakeOpenAiServer(syncModel);
        using IChatClientHolder holder = new(RpmOpenAI.CreateChatClient(new OpenAIEndpointOptions { Endpoint = sync.Endpoint, ApiKey = "test-key", Model = "gpt-4o-mini" }));
        await using var harness = new BatchHarness();
        var syncPipeline = new RpmPipeline(holder.Client, new HashingEmbeddingGenerator());
        BatchUser user = BatchHarness.Users(1)[0];
        await syncPipeline.BuildUserModelAsync(user.UserId, user.Task, user.History);

        // ... and through batches: the JSONL bodies are the synchronous bodies, strict json_schema included.
        using OpenAIBatchBuilder builder = harness.Builder();
        BatchBuildResult result = await builder.BuildAsync(harness.Pipeline(builder), [user]);

        Assert.True(result.Succeeded);
        List<string> batchBodies = [.. harness.Server.Submitted.SelectMany(s => s.Lines).Select(l => l["body"]!.ToJsonString()).Order(StringComparer.Ordinal)];
        List<string> syncBodies = [.. sync.Bodies.Select(b => b.ToJsonString()).Order(StringComparer.Ordinal)];
        Assert.Equal(syncBodies, batchBodies);
        Assert.All(harness.Server.Submitted.SelectMany(s => s.Lines), l =>
        {
            Assert.Equal("POST", l["method"]!.GetValue<string>());
            Assert.Equal("/v1/chat/completions", l["url"]!.GetValue<string>());
            JsonObject format = l["body"]!["response_format"]!.AsObject();
            Assert.Equal("json_schema", format["type"]!.GetValue<string>());
            Assert.True(format["json_schema"]!["strict"]!.GetValue<bool>());
        });
    }

    [Fact]
    public async Task A_restarted_process_polls_the_batch_in_flight_instead_of_submitting_it_again()
    {
        await using var harness = new BatchHarness();
        List<BatchUser> users = BatchHarness.Users(2);
        harness.Server.Hold = true;
        using var cts = new CancellationTokenSource();
        using (OpenAIBatchBuilder first = harness.Builder())
        {
            Task<BatchBuildResult> run = first.BuildAsync(harness.Pipeline(first), users, cancellationToken: cts.Token);

            // The batch is in progress: the builder waits a poll interval, polls again, waits again; then the process stops.
            await harness.Time.WaitForTimerAsync();
            harness.Time.Advance(TimeSpan.FromMinutes(1));
            await harness.Time.WaitForTimerAsync();
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }

        Assert.Single(harness.Server.Submitted);
        Assert.Equal(2, harness.Server.Log.Count(l => l == "GET /v1/batches/batch_1"));

        // A new process over the same files: it polls batch_1, and never submits the features again.
        harness.Server.Hold = false;
        using OpenAIBatchBuilder second = harness.Builder();
        BatchBuildResult result = await second.BuildAsync(harness.Pipeline(second), users);

        Assert.True(result.Succeeded);
        Assert.Equal("batch_1", result.BatchIds[0]);
        Assert.Equal(2, result.Waves); // factors and reasoning paths; the features' wave was the first process's
        Assert.Equal(3, harness.Server.Submitted.Count);
        Assert.Equal(Lines(harness.Server), CustomIds(harness.Server).Distinct().Count());
    }

    [Fact]
    public async Task An_expired_and_then_a_failed_batch_leave_their_requests_pending_and_they_are_sent_again()
    {
        await using var harness = new BatchHarness();
        harness.Server.Outcome = n => n switch { 1 => BatchOutcome.Expired, 2 => BatchOutcome.Failed, _ => BatchOutcome.Completed };

        // One user's build at a time, so the first half of wave 1 is u1's first four features and both users still wait for features.
        using OpenAIBatchBuilder builder = harness.Builder(o => o.MaxConcurrentBuilds = 1);
        List<BatchUser> users = BatchHarness.Users(2);
        int items = users.Sum(u => u.History.Count);

        BatchBuildResult result = await builder.BuildAsync(harness.Pipeline(builder), users);

        Assert.True(result.Succeeded, string.Join("; ", result.Failures.Select(f => f.Value.Message)));

        // Wave 1 expired with half its lines answered; the other half failed in wave 2 and were answered in wave 3.
        Assert.Equal(5, result.Waves);
        int unanswered = items - (items / 2);
        Assert.Equal([items, unanswered, unanswered, 2, items], harness.Server.Submitted.Select(s => s.Lines.Count));
        Assert.Equal(harness.Server.Answered.Count, harness.Server.Answered.Distinct().Count());
        Assert.Equal(2 * items + 2, harness.Server.Answered.Count);
        Assert.Empty(harness.Server.Submitted[1].Lines.Select(l => l["custom_id"]!.GetValue<string>()).Intersect(harness.Server.Answered.Take(items / 2)));
    }

    [Fact]
    public async Task A_partially_failed_batch_sends_again_only_the_lines_without_an_answer()
    {
        await using var harness = new BatchHarness();
        harness.Server.LineFailure = (batch, request) => batch != 1 ? null : request.ItemId switch
        {
            "u1-h1" => "error",
            "u1-h3" => "500",
            _ => null,
        };
        using OpenAIBatchBuilder builder = harness.Builder();
        List<BatchUser> users = BatchHarness.Users(2);

        BatchBuildResult result = await builder.BuildAsync(harness.Pipeline(builder), users);

        Assert.True(result.Succeeded);
        List<JsonObject> resent = harness.Server.Submitted[1].Lines;
        List<FakeRequest> resentFeatures = [.. resent.Select(l => FakeBatchServer.Parse(l["body"]!.AsObject())).Select(p => new FakeRequest(p.Messages, p.Options, 1)).Where(r => r.Stage == RpmStage.FeatureExtraction)];
        Assert.Equal(["u1-h1", "u1-h3"], resentFeatures.Select(r => r.ItemId!).Order(StringComparer.Ordinal));

        // u2's features were complete after wave 1, so its factors went with u1's missing features in wave 2.
        Assert.Equal(3, resent.Count);
        Assert.Equal(4, result.Waves);
        Assert.Equal(harness.Server.Answered.Count, harness.Server.Answered.Distinct().Count());
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("not-json")]
    [InlineData("no-custom-id")]
    public async Task A_damaged_output_line_loses_only_its_own_request_and_the_file_s_other_answers_are_kept(string damage)
    {
        await using var harness = new BatchHarness();
        harness.Server.MangleOutput = (batch, text) =>
        {
            if (batch != 1)
            {
                return text;
            }

            string[] lines = text.TrimEnd('\n').Split('\n');
            lines[^1] = damage switch
            {
                "truncated" => lines[^1][..(lines[^1].Length / 2)],
                "not-json" => "<html>502 Bad Gateway</html>",
                _ => "{\"id\":\"batch_req_x\",\"response\":null}",
            };
            return string.Join('\n', lines) + (damage == "truncated" ? string.Empty : "\n");
        };
        using OpenAIBatchBuilder builder = harness.Builder();
        List<BatchUser> users = BatchHarness.Users(2);

        BatchBuildResult result = await builder.BuildAsync(harness.Pipeline(builder), users);

        Assert.True(result.Succeeded, string.Join("; ", result.Failures.Select(f => f.Value.Message)));

        // Only the damaged line's request went again; the first batch's other answers were kept, not paid twice.
        string lost = harness.Server.Submitted[0].Lines[^1]["custom_id"]!.GetValue<string>();
        List<string> resent = [.. harness.Server.Submitted[1].Lines.Select(l => l["custom_id"]!.GetValue<string>())];
        Assert.Contains(lost, resent);
        Assert.Empty(resent.Intersect(harness.Server.Submitted[0].Lines.SkipLast(1).Select(l => l["custom_id"]!.GetValue<string>())));
    }

    [Fact]
    public async Task Answers_of_a_damaged_file_are_saved_so_a_rerun_with_the_same_state_pays_for_none_of_them()
    {
        await using var harness = new BatchHarness();
        harness.Server.MangleOutput = (batch, text) => batch == 1 ? text + "{not json\n" : text;
        List<BatchUser> users = BatchHarness.Users(2);
        using (OpenAIBatchBuilder first = harness.Builder())
        {
            Assert.True((await first.BuildAsync(harness.Pipeline(first), users)).Succeeded);
        }

        int paid = harness.Server.Answered.Count;
        using OpenAIBatchBuilder second = harness.Builder();
        BatchBuildResult again = await second.BuildAsync(harness.Pipeline(second), users);

        Assert.True(again.Succeeded);
        Assert.Equal(0, again.RequestsSubmitted);
        Assert.Equal(paid, harness.Server.Answered.Count);
        Assert.Equal(harness.Server.Answered.Count, harness.Server.Answered.Distinct().Count());
    }

    [Fact]
    public async Task A_request_unanswered_in_MaxSubmissions_batches_fails_its_user_with_the_request_and_batch_named()
    {
        await using var harness = new BatchHarness();
        harness.Server.LineFailure = (_, request) => request.ItemId == "u2-h0" ? "500" : null;
        using OpenAIBatchBuilder builder = harness.Builder(o => o.MaxSubmissions = 2);
        List<BatchUser> users = BatchHarness.Users(3);

        BatchBuildResult result = await builder.BuildAsync(harness.Pipeline(builder), users);

        Assert.False(result.Succeeded);
        Assert.Equal(["u1", "u3"], result.BuiltUserIds);
        var error = Assert.IsType<OpenAIBatchException>(Assert.Single(result.Failures).Value);
        Assert.Equal("u2", error.UserId);
        Assert.Equal("batch_2", error.BatchId);
        Assert.Contains("'u2'", error.Message, StringComparison.Ordinal);
        Assert.Contains(error.RequestId!, error.Message, StringComparison.Ordinal);
        Assert.Contains("unanswered in 2 batches", error.Message, StringComparison.Ordinal);
        Assert.Contains("status 500", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, CustomIds(harness.Server).Count(id => id == error.RequestId));
        Assert.Null(await harness.Store.GetAsync("u2"));
    }

    [Fact]
    public async Task A_repair_turn_becomes_a_request_of_the_next_wave()
    {
        var model = new FakeChatClient("gpt-4o-mini")
        {
            Respond = r => r.Stage == RpmStage.FeatureExtraction && r.ItemId == "u1-h0" && r.Attempt == 1 ? "not json at all" : null,
        };
        await using var harness = new BatchHarness(model);
        using OpenAIBatchBuilder builder = harness.Builder();
        List<BatchUser> users = BatchHarness.Users(2);
        int items = users.Sum(u => u.History.Count);

        BatchBuildResult result = await builder.BuildAsync(harness.Pipeline(builder), users);

        Assert.True(result.Succeeded);

        // u1 needs one more wave: its repair goes with u2's factors, its factors with u2's paths.
        Assert.Equal(4, result.Waves);
        Assert.Equal(2 * items + 2 + 1, harness.Server.Answered.Count);
        Assert.Equal(harness.Server.Answered.Count, harness.Server.Answered.Distinct().Count());
        UserModel u1 = (await harness.Store.GetAsync("u1"))!;
        Assert.Equal((2 * users[0].History.Count) + 1 + 1, u1.BuildUsage.Calls); // the invalid answer was paid, once
    }

    [Fact]
    public async Task A_wave_over_the_limits_is_split_into_several_batches()
    {
        await using var harness = new BatchHarness();
        using OpenAIBatchBuilder builder = harness.Builder(o => o.MaxRequestsPerBatch = 4);
        List<BatchUser> users = BatchHarness.Users(2);
        int items = users.Sum(u => u.History.Count);

        BatchBuildResult result = await builder.BuildAsync(harness.Pipeline(builder), users);

        Assert.True(result.Succeeded);
        Assert.Equal(3, result.Waves);
        Assert.All(harness.Server.Submitted, s => Assert.InRange(s.Lines.Count, 1, 4));
        Assert.Equal((items + 3) / 4, harness.Server.Submitted.Count(s => s.Lines.Any(l => l["body"]!.ToJsonString().Contains("rpm_featurelist", StringComparison.Ordinal))));

        await using var bytes = new BatchHarness();
        using OpenAIBatchBuilder small = bytes.Builder(o => o.MaxBytesPerBatch = 12_000);
        BatchBuildResult bySize = await small.BuildAsync(bytes.Pipeline(small), users);
        Assert.True(bySize.Succeeded);
        Assert.True(bytes.Server.Submitted.Count > 3);
        Assert.All(bytes.Server.Submitted, s => Assert.InRange(s.Lines.Sum(l => System.Text.Encoding.UTF8.GetByteCount(l.ToJsonString()) + 1), 1, 12_000));
    }

    [Fact]
    public async Task A_batch_whose_creation_answer_was_lost_is_found_by_its_input_file_not_created_twice()
    {
        await using var harness = new BatchHarness();
        harness.Server.LoseNextCreateAnswer = true;
        using OpenAIBatchBuilder builder = harness.Builder();

        BatchBuildResult result = await builder.BuildAsync(harness.Pipeline(builder), BatchHarness.Users(2));

        Assert.True(result.Succeeded);
        Assert.Equal(3, harness.Server.Submitted.Count);
        Assert.Contains("GET /v1/batches", harness.Server.Log);
        Assert.Equal("batch_1", result.BatchIds[0]);
    }

    [Fact]
    public async Task Users_asking_the_very_same_request_share_one_line_and_both_are_built()
    {
        await using var harness = new BatchHarness();
        using OpenAIBatchBuilder builder = harness.Builder();

        // Same movies, different item ids: the feature prompts differ, the factor prompt (features only) is the same.
        List<BatchUser> users = [new("a", Rpm.Tests.TestData.MovieRating, BatchHarness.History("a", 4, offset: 0)), new("b", Rpm.Tests.TestData.MovieRating, BatchHarness.History("b", 4, offset: 0))];
        BatchBuildResult result = await builder.BuildAsync(harness.Pipeline(builder), users);

        Assert.True(result.Succeeded);
        Assert.Equal([8, 1, 8], harness.Server.Submitted.Select(s => s.Lines.Count));
        Assert.Equal(
            (await harness.Store.GetAsync("a"))!.Factors.Select(f => f.Name),
            (await harness.Store.GetAsync("b"))!.Factors.Select(f => f.Name));
    }

    [Fact]
    public async Task Items_batched_ten_a_call_go_out_as_one_line_per_ten_items()
    {
        await using var harness = new BatchHarness();
        using OpenAIBatchBuilder builder = harness.Builder();
        List<BatchUser> users = [new("a", Rpm.Tests.TestData.MovieRating, BatchHarness.History("a", 12, offset: 0)), new("b", Rpm.Tests.TestData.MovieRating, BatchHarness.History("b", 7, offset: 3))];
        RpmPipeline pipeline = harness.Pipeline(builder, o => { o.FeatureExtractionBatchSize = 10; o.ReasoningBatchSize = 10; });

        BatchBuildResult result = await builder.BuildAsync(pipeline, users);

        Assert.True(result.Succeeded);
        Assert.Equal(3, result.Waves);
        Assert.Equal([2 + 1, 2, 2 + 1], harness.Server.Submitted.Select(s => s.Lines.Count));
        Assert.Equal(12, (await harness.Store.GetAsync("a"))!.Paths.Count);
        Assert.Equal(2 + 1 + 2, (await harness.Store.GetAsync("a"))!.BuildUsage.Calls);
    }

    [Fact]
    public async Task A_refused_batch_creation_is_tried_again_next_wave_and_a_persistent_refusal_fails_the_users_with_the_server_s_words()
    {
        await using var harness = new BatchHarness();
        harness.Server.RejectCreations = 1;
        using (OpenAIBatchBuilder builder = harness.Builder())
        {
            BatchBuildResult once = await builder.BuildAsync(harness.Pipeline(builder), BatchHarness.Users(1));
            Assert.True(once.Succeeded);
            Assert.Equal(4, once.Waves); // the refused wave, then features, factors, paths
            Assert.Equal(3, harness.Server.Submitted.Count);
        }

        await using var refusing = new BatchHarness();
        refusing.Server.RejectCreations = int.MaxValue;
        using OpenAIBatchBuilder stuck = refusing.Builder(o => o.MaxSubmissions = 2);
        BatchBuildResult result = await stuck.BuildAsync(refusing.Pipeline(stuck), BatchHarness.Users(1));

        var error = Assert.IsType<OpenAIBatchException>(Assert.Single(result.Failures).Value);
        Assert.Contains("not available for batches", error.Message, StringComparison.Ordinal);
        Assert.Contains("unanswered in 2 batches", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, refusing.Server.Log.Count(l => l == "POST /v1/batches"));
        Assert.Empty(refusing.Server.Submitted);
    }

    [Fact]
    public async Task A_refused_API_call_names_the_endpoint_and_the_server_s_words()
    {
        await using var harness = new BatchHarness();
        using OpenAIBatchBuilder builder = new(harness.Options(o => o.Endpoint.ApiKey = "wrong-key"), harness.Http);

        var ex = await Assert.ThrowsAsync<OpenAIBatchException>(() => builder.BuildAsync(harness.Pipeline(builder), BatchHarness.Users(1)));

        Assert.Equal(401, ex.StatusCode);
        Assert.Contains("uploading the batch input file", ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing or wrong API key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_chat_client_defers_an_unanswered_call_and_refuses_to_stream()
    {
        await using var harness = new BatchHarness();
        using OpenAIBatchBuilder builder = harness.Builder();

        await Assert.ThrowsAsync<RpmCallDeferredException>(() => builder.ChatClient.GetResponseAsync("hello"));
        var streaming = await Assert.ThrowsAsync<NotSupportedException>(async () =>
        {
            await foreach (var update in builder.ChatClient.GetStreamingResponseAsync("hello"))
            {
            }
        });
        Assert.Contains("does not stream", streaming.Message, StringComparison.Ordinal);
        Assert.Empty(harness.Server.Log);
    }

    [Fact]
    public async Task Arguments_and_options_are_checked()
    {
        await using var harness = new BatchHarness();
        Assert.Contains("MaxRequestsPerBatch", Assert.Throws<ArgumentException>(() => harness.Builder(o => o.MaxRequestsPerBatch = 50_001)).Message, StringComparison.Ordinal);
        Assert.Contains("MaxBytesPerBatch", Assert.Throws<ArgumentException>(() => harness.Builder(o => o.MaxBytesPerBatch = 300_000_000)).Message, StringComparison.Ordinal);
        Assert.Contains("MaxSubmissions", Assert.Throws<ArgumentException>(() => harness.Builder(o => o.MaxSubmissions = 0)).Message, StringComparison.Ordinal);
        Assert.Contains("MaxUsersInMemory", Assert.Throws<ArgumentException>(() => harness.Builder(o => o.MaxUsersInMemory = 0)).Message, StringComparison.Ordinal);

        using OpenAIBatchBuilder builder = harness.Builder();
        BatchUser user = BatchHarness.Users(1)[0];
        var duplicate = await Assert.ThrowsAsync<ArgumentException>(() => builder.BuildAsync(harness.Pipeline(builder), [user, user]));
        Assert.Contains("'u1'", duplicate.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentNullException>(() => builder.BuildAsync(null!, [user]));
        Assert.Empty(harness.Server.Log);
    }

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private sealed class IChatClientHolder(Microsoft.Extensions.AI.IChatClient client) : IDisposable
    {
        public Microsoft.Extensions.AI.IChatClient Client { get; } = client;

        public void Dispose() => Client.Dispose();
    }
}
