using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rpm.WebApi.Tests;

/// <summary>The sample end to end over real HTTP: the real SQLite file, MiniLM, the Rpm.OpenAI client, a fake endpoint that fails like real ones.</summary>
public sealed class WebApiTests(WebApiFixture app) : IClassFixture<WebApiFixture>, IDisposable
{
    private const string Marker = "reasoning-level personalization";
    private const string Question = "Would I like Ronin (1998)? Genres: Action, Crime, Thriller.";

    private HttpClient Client => app.Client;

    private FaultyEndpoint Endpoint => app.Endpoint;

    public void Dispose() => Endpoint.Reset();

    [Fact]
    public async Task An_upload_is_accepted_with_the_jobs_location_builds_in_the_background_and_then_personalizes_chat()
    {
        Endpoint.Reset();
        HttpResponseMessage accepted = await Client.PostAsJsonAsync("/users/alice/history", WebApiFixture.History());

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        JsonElement pending = await accepted.Content.ReadFromJsonAsync<JsonElement>();
        string jobId = pending.GetProperty("id").GetString()!;
        Assert.Equal($"/users/alice/jobs/{jobId}", accepted.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/users/mallory/jobs/{jobId}")).StatusCode);   // only under its own user
        Assert.Contains(pending.GetProperty("state").GetString(), new[] { "Pending", "Running", "Succeeded" });

        await app.Factory.Services.GetRequiredService<RpmBuildQueue>().WaitAsync(jobId);
        JsonElement job = await Client.GetFromJsonAsync<JsonElement>(accepted.Headers.Location);
        Assert.Equal("Succeeded", job.GetProperty("state").GetString());
        Assert.True(job.GetProperty("modelVersion").GetInt64() >= 1);
        Assert.Equal(2 * 4 + 1, Endpoint.Model.CallCount);   // 2N + 1 stage calls, paid once

        JsonElement user = await Client.GetFromJsonAsync<JsonElement>("/users/alice");
        Assert.Equal(4, user.GetProperty("historyItems").GetInt32());
        Assert.True(user.GetProperty("factors").GetInt32() >= 1);
        Assert.Equal(user.GetProperty("factors").GetInt32(), user.GetProperty("factorStatistics").GetArrayLength());
        Assert.Equal(job.GetProperty("modelVersion").GetInt64(), user.GetProperty("version").GetInt64());

        HttpResponseMessage chat = await Client.PostAsJsonAsync("/users/alice/chat", new { message = Question });
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal(FaultyEndpoint.PlainReply, (await chat.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reply").GetString());
        JsonObject turn = Endpoint.Bodies.Last(b => !FaultyEndpoint.IsStageCall(b));
        string instructions = FaultyEndpoint.SystemText(turn);
        Assert.Contains(Marker, instructions, StringComparison.Ordinal);
        Assert.Contains("Heat (1995)", instructions, StringComparison.Ordinal);   // the most similar past item
    }

    [Fact]
    public async Task A_user_without_a_model_is_answered_unpersonalized()
    {
        Endpoint.Reset();
        HttpResponseMessage chat = await Client.PostAsJsonAsync("/users/nobody/chat", new { message = Question });

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.DoesNotContain(Marker, FaultyEndpoint.SystemText(Endpoint.Bodies.Last(b => !FaultyEndpoint.IsStageCall(b))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_streaming_chat_sends_the_models_text_as_server_sent_events_personalized()
    {
        Endpoint.Reset();
        await app.UploadAndWaitAsync("stream-user", WebApiFixture.History());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/users/stream-user/chat/stream") { Content = JsonContent.Create(new { message = Question }) };
        HttpResponseMessage response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        string events = await response.Content.ReadAsStringAsync();
        string text = string.Concat(events.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..]));
        Assert.Equal(FaultyEndpoint.PlainReply, text);
        Assert.Contains("event: text", events, StringComparison.Ordinal);
        JsonObject turn = Endpoint.Bodies.Last(b => !FaultyEndpoint.IsStageCall(b));
        Assert.True(turn["stream"]!.GetValue<bool>());
        Assert.Contains(Marker, FaultyEndpoint.SystemText(turn), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_history_with_an_invalid_item_is_a_400_problem_naming_the_item_and_nothing_is_paid()
    {
        Endpoint.Reset();
        object[] history = [.. WebApiFixture.History("b").Take(1), new { id = "b-bad", input = "Ronin (1998). Genres: Action.", output = "7" }];

        HttpResponseMessage response = await Client.PostAsJsonAsync("/users/bad-input/history", history);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        string detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("'b-bad'", detail, StringComparison.Ordinal);
        Assert.Contains("outside the scale", detail, StringComparison.Ordinal);
        Assert.Equal(0, Endpoint.Model.CallCount);

        HttpResponseMessage repeated = await Client.PostAsJsonAsync("/users/bad-input/history", new[] { WebApiFixture.History("d")[0], WebApiFixture.History("d")[0] });
        Assert.Equal(HttpStatusCode.BadRequest, repeated.StatusCode);
        Assert.Contains("'d1' appears more than once", (await repeated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_RPMs_calls_fail_with_503_the_build_job_fails_with_the_reason_and_chat_still_answers()
    {
        Endpoint.Reset();
        await app.UploadAndWaitAsync("down-user", WebApiFixture.History());
        Endpoint.FaultFor = body => FaultyEndpoint.IsStageCall(body) ? Fault.Unavailable() : null;

        var (_, failed) = await app.UploadAndWaitAsync("never-built", WebApiFixture.History("n"));
        Assert.Equal("Failed", failed.GetProperty("state").GetString());
        Assert.Contains("503", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-PROMPT", failed.GetProperty("error").GetString(), StringComparison.Ordinal);   // the endpoint's body quoted the prompt
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/users/never-built")).StatusCode);

        int before = Endpoint.Bodies.Count(FaultyEndpoint.IsStageCall);
        HttpResponseMessage chat = await Client.PostAsJsonAsync("/users/down-user/chat", new { message = Question });
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal(FaultyEndpoint.PlainReply, (await chat.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reply").GetString());
        Assert.True(Endpoint.Bodies.Count(FaultyEndpoint.IsStageCall) > before);   // the feature call was tried, and failed
    }

    [Fact]
    public async Task A_model_answer_that_is_not_json_fails_the_build_job_naming_the_item()
    {
        Endpoint.Reset();
        Endpoint.FaultFor = body => FaultyEndpoint.IsStageCall(body) ? Fault.MalformedJson() : null;

        var (_, failed) = await app.UploadAndWaitAsync("malformed", WebApiFixture.History("x"));

        Assert.Equal("Failed", failed.GetProperty("state").GetString());
        string error = failed.GetProperty("error").GetString()!;
        Assert.Contains("RpmModelOutputException", error, StringComparison.Ordinal);
        Assert.Matches("item 'x[1-4]'", error);
    }

    [Fact]
    public async Task A_503_with_Retry_After_from_the_chat_endpoint_is_a_503_problem_with_that_Retry_After_and_no_server_text()
    {
        Endpoint.Reset();
        Endpoint.FaultFor = _ => Fault.Unavailable(TimeSpan.FromSeconds(7));

        HttpResponseMessage response = await Client.PostAsJsonAsync("/users/alice503/chat", new { message = Question });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        string body = await response.Content.ReadAsStringAsync();
        JsonElement problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.Equal(503, problem.GetProperty("endpointStatus").GetInt32());
        Assert.Equal(7, problem.GetProperty("retryAfter").GetInt32());
        Assert.DoesNotContain("SECRET-PROMPT", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Ronin", body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_is_a_503_problem_with_the_endpoints_Retry_After_and_the_stream_too()
    {
        Endpoint.Reset();
        Endpoint.FaultFor = _ => Fault.RateLimited(TimeSpan.FromSeconds(3));

        HttpResponseMessage response = await Client.PostAsJsonAsync("/users/limited/chat", new { message = Question });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("3", response.Headers.GetValues("Retry-After").Single());
        Assert.Contains("rate-limiting", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString(), StringComparison.Ordinal);

        HttpResponseMessage stream = await Client.PostAsJsonAsync("/users/limited/chat/stream", new { message = Question });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stream.StatusCode);
        Assert.Equal("application/problem+json", stream.Content.Headers.ContentType!.MediaType);
        Assert.Equal("3", stream.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task An_endpoint_that_does_not_answer_is_a_503_problem_after_the_attempt_timeout()
    {
        Endpoint.Reset();
        Endpoint.FaultFor = _ => Fault.Timeout();

        HttpResponseMessage response = await Client.PostAsJsonAsync("/users/slow/chat", new { message = Question });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("30", response.Headers.GetValues("Retry-After").Single());   // no wait named: the default
        Assert.Contains("no response", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Erasing_a_user_while_its_first_build_runs_is_204_stops_the_build_and_leaves_nothing()
    {
        Endpoint.Reset();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Endpoint.Model.Gate = (r, ct) =>
        {
            if (r.Stage != RpmStage.ReasoningPath)
            {
                return Task.CompletedTask;
            }

            held.TrySetResult();
            return release.Task.WaitAsync(ct);
        };
        try
        {
            HttpResponseMessage accepted = await Client.PostAsJsonAsync("/users/erase-early/history", WebApiFixture.History("q"));
            await held.Task.WaitAsync(TimeSpan.FromMinutes(1));

            Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/users/erase-early")).StatusCode);   // its job and checkpoints were erased

            Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(accepted.Headers.Location)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/users/erase-early")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await Client.DeleteAsync("/users/erase-early")).StatusCode);
        }
        finally
        {
            release.TrySetResult();
            Endpoint.Model.Gate = null;
        }

        Assert.Null(await app.Factory.Services.GetRequiredService<RpmPipeline>().GetUserModelAsync("erase-early"));
    }

    [Fact]
    public async Task Erasure_deletes_the_model_its_jobs_and_export_and_a_second_erasure_is_404()
    {
        Endpoint.Reset();
        var (accepted, _) = await app.UploadAndWaitAsync("erase-me", WebApiFixture.History("e"));
        HttpResponseMessage export = await Client.GetAsync("/users/erase-me/export");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("application/json", export.Content.Headers.ContentType!.MediaType);
        Assert.Contains("erase-me", await export.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/users/erase-me")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/users/erase-me")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/users/erase-me/export")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(accepted.Headers.Location)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.DeleteAsync("/users/erase-me")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/users/erase-me/jobs/no-such-job")).StatusCode);
    }

    [Fact]
    public async Task A_retracted_rating_is_removed_without_a_call_and_a_changed_one_costs_its_reasoning_path_alone()
    {
        Endpoint.Reset();
        await app.UploadAndWaitAsync("fixer", WebApiFixture.History("f"));
        int calls = Endpoint.Model.CallCount;

        HttpResponseMessage removed = await Client.DeleteAsync("/users/fixer/history/f2");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(calls, Endpoint.Model.CallCount);
        JsonElement user = await Client.GetFromJsonAsync<JsonElement>("/users/fixer");
        Assert.Equal(3, user.GetProperty("historyItems").GetInt32());
        Assert.Equal((await removed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt64(), user.GetProperty("version").GetInt64());
        Assert.DoesNotContain("Notting Hill", await Client.GetStringAsync("/users/fixer/export"), StringComparison.Ordinal);

        HttpResponseMessage corrected = await Client.PutAsJsonAsync("/users/fixer/history/f3", new { id = "f3", input = "Gattaca (1997). Genres: Drama, Sci-Fi, Thriller.", output = "1" });
        Assert.Equal(HttpStatusCode.OK, corrected.StatusCode);
        Assert.Equal(calls + 1, Endpoint.Model.CallCount);
        Assert.Contains("\"output\":\"1.0\"", await Client.GetStringAsync("/users/fixer/export"), StringComparison.Ordinal);

        // An item the model does not have, or a user without a model: 404; the last item: 400 (erase the user instead).
        Assert.Equal(HttpStatusCode.NotFound, (await Client.DeleteAsync("/users/fixer/history/f9")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.DeleteAsync("/users/nobody/history/f1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.DeleteAsync("/users/fixer/history/f1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.DeleteAsync("/users/fixer/history/f3")).StatusCode);
        HttpResponseMessage last = await Client.DeleteAsync("/users/fixer/history/f4");
        Assert.Equal(HttpStatusCode.BadRequest, last.StatusCode);
        Assert.Equal("application/problem+json", last.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task A_body_the_endpoint_cannot_read_or_a_turn_without_a_message_is_a_400_problem_not_a_500()
    {
        Endpoint.Reset();
        HttpResponseMessage notArray = await Client.PostAsync("/users/bob/history", new StringContent("{\"not\":\"array\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notArray.StatusCode);
        Assert.Equal("application/problem+json", notArray.Content.Headers.ContentType!.MediaType);

        foreach (string path in new[] { "/users/bob/chat", "/users/bob/chat/stream" })
        {
            HttpResponseMessage empty = await Client.PostAsync(path, new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
            Assert.Contains("no message", await empty.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // An item without its answer is named, though the binder rejects it before RPM sees the history.
        HttpResponseMessage noOutput = await Client.PostAsJsonAsync("/users/bob/history", new object[] { new { id = "m1", input = "Heat (1995)." } });
        Assert.True(noOutput.StatusCode == HttpStatusCode.BadRequest, await noOutput.Content.ReadAsStringAsync());
        Assert.Contains("'m1'", await noOutput.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(0, Endpoint.Model.CallCount);
    }

    [Fact]
    public async Task Health_is_healthy_then_unhealthy_when_the_endpoint_is_down_and_degraded_when_it_rate_limits()
    {
        Endpoint.Reset();
        HttpResponseMessage healthy = await Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal("Healthy", await healthy.Content.ReadAsStringAsync());
        HealthReport report = await app.Factory.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(["rpm-chat", "rpm-embeddings", "rpm-store"], report.Entries.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(384, report.Entries["rpm-embeddings"].Data["dimensions"]);
        Assert.Equal(SqliteRpmSchema.CurrentVersion, report.Entries["rpm-store"].Data["schemaVersion"]);

        Endpoint.FaultFor = _ => Fault.Unavailable();
        HttpResponseMessage down = await Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal("Unhealthy", await down.Content.ReadAsStringAsync());
        report = await app.Factory.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["rpm-chat"].Status);
        Assert.Contains("HTTP 503", report.Entries["rpm-chat"].Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, report.Entries["rpm-store"].Status);

        Endpoint.FaultFor = _ => Fault.RateLimited(TimeSpan.FromSeconds(2));
        HttpResponseMessage limited = await Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, limited.StatusCode);
        Assert.Equal("Degraded", await limited.Content.ReadAsStringAsync());
    }
}
