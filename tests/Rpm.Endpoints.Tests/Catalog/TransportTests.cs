using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Rpm.Endpoints.Tests.Server;

namespace Rpm.Endpoints.Tests.Catalog;

/// <summary>
/// Errors in the server's own words, whatever the shape of the body, and transient failures ridden out by the transport's
/// resilience (Microsoft.Extensions.Http.Resilience): what is retried, for how long, what each costs.
/// </summary>
[Collection(EndpointCollection.Name)]
public sealed class TransportTests(MiniLm miniLm)
{
    private const string Query = "movie: Aliens (1986). Genres: Action, Sci-Fi.";

    private static async Task<(Harness Harness, RpmPipeline Pipeline, UserModel Model)> Built(MiniLm miniLm, Action<OpenAIEndpointOptions>? configure = null)
    {
        Harness harness = await Harness.StartAsync(miniLm, configure);
        RpmPipeline pipeline = harness.Pipeline();
        return (harness, pipeline, await harness.BuildAsync(pipeline));
    }

    [Fact]
    public async Task A_vLLM_shaped_400_error_is_shown_in_the_servers_words_naming_stage_and_item_and_is_not_retried()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            harness.Server.Behave = r => r.Stage == RpmStage.Generation
                ? Reply.Error(400, """{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5120 tokens.","type":"BadRequestError","param":null,"code":400}""", "application/json")
                : null;

            var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, new RpmQuery(Query, "query-42")));

            Assert.Equal(RpmStage.Generation, ex.Stage);
            Assert.Equal("query-42", ex.ItemId);
            Assert.Contains("answered 400 Bad Request: This model's maximum context length is 4096 tokens.", ex.Message, StringComparison.Ordinal);
            var endpoint = Assert.IsType<RpmEndpointException>(ex.InnerException);
            Assert.Equal(400, endpoint.StatusCode);
            Assert.Single(harness.Server.Requests, r => r.Stage == RpmStage.Generation);
        }
    }

    [Fact]
    public async Task A_502_HTML_page_from_a_proxy_shows_the_pages_text_after_the_retries()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            harness.Server.Behave = r => r.Stage == RpmStage.Generation
                ? Reply.Error(502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>", "text/html")
                : null;

            var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, Query));

            Assert.Contains("answered 502 Bad Gateway: 502 Bad Gateway nginx/1.25.3", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("<", ex.Message, StringComparison.Ordinal);
            Assert.Equal(1 + harness.Options.Interactive.MaxRetryAttempts, harness.Server.Requests.Count(r => r.Stage == RpmStage.Generation));
            Assert.All(harness.Retries, r => Assert.Equal(EndpointRetryReason.ServerError, r.Reason));
            Assert.All(harness.Retries, r => Assert.Equal(EndpointRetryProfile.Interactive, r.Profile));
        }
    }

    [Fact]
    public async Task A_500_with_a_bare_string_body_shows_that_string()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            harness.Server.Behave = r => r.Stage == RpmStage.Generation ? Reply.Error(500, "llama_decode failed: KV cache is full") : null;

            var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, Query));

            Assert.Contains("answered 500 Internal Server Error: llama_decode failed: KV cache is full", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_Ollama_model_not_found_error_names_the_model_in_the_servers_words()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            harness.Server.Behave = r => r.Stage == RpmStage.Generation
                ? Reply.Error(404, """{"error":{"message":"model \"llama3.1\" not found, try pulling it first","type":"api_error","param":null,"code":null}}""", "application/json")
                : null;

            var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, Query));

            Assert.Contains("answered 404 Not Found: model \"llama3.1\" not found, try pulling it first", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_waited_out_and_the_progress_callback_says_rate_limited()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            int limited = 0;
            harness.Server.Behave = r => r.Stage == RpmStage.Generation && Interlocked.Increment(ref limited) == 1
                ? Reply.Error(429, """{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}""", "application/json", new Dictionary<string, string> { ["Retry-After"] = "1" })
                : null;
            var clock = System.Diagnostics.Stopwatch.StartNew();

            RpmResponse response = await pipeline.RespondAsync(model, Query);

            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), "Retry-After was not honoured.");
            EndpointRetry retry = Assert.Single(harness.Retries);
            Assert.Equal(EndpointRetryReason.RateLimited, retry.Reason);
            Assert.Equal(TimeSpan.FromSeconds(1), retry.Delay);
            Assert.StartsWith("rate limited, retrying in 1 s", retry.ToString(), StringComparison.Ordinal);
            Assert.Equal(2, response.Usage.Calls);
            Assert.Equal(2, harness.Server.Requests.Count(r => r.Stage == RpmStage.Generation));
        }
    }

    [Fact]
    public async Task OpenAIs_retry_after_ms_header_is_honoured()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            int limited = 0;
            harness.Server.Behave = r => r.Stage == RpmStage.Generation && Interlocked.Increment(ref limited) == 1
                ? Reply.Error(429, """{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}""", "application/json", new Dictionary<string, string> { ["retry-after-ms"] = "250", ["Retry-After"] = "1" })
                : null;

            await pipeline.RespondAsync(model, Query);

            Assert.Equal(TimeSpan.FromMilliseconds(250), Assert.Single(harness.Retries).Delay);
        }
    }

    [Fact]
    public async Task A_Retry_After_beyond_the_cap_fails_at_once_with_a_rate_limit_error_naming_the_cap()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            harness.Server.Behave = r => r.Stage == RpmStage.Generation
                ? Reply.Error(429, """{"error":{"message":"Rate limit reached for gpt-4o-mini on tokens per day (TPD)","code":"rate_limit_exceeded"}}""", "application/json", new Dictionary<string, string> { ["Retry-After"] = "3600" })
                : null;
            var clock = System.Diagnostics.Stopwatch.StartNew();

            var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, Query));

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
            var limited = Assert.IsType<RpmRateLimitedException>(ex.InnerException);
            Assert.Equal(TimeSpan.FromSeconds(3600), limited.RetryAfter);
            Assert.Equal(TimeSpan.FromSeconds(5), limited.RetryAfterCap);
            Assert.Contains("asked to wait 3600 s, more than the 5 s this client waits at most in a call of the interactive profile (OpenAIEndpointOptions.Interactive.RetryAfterCap", ex.Message, StringComparison.Ordinal);
            Assert.Contains("tokens per day (TPD)", ex.Message, StringComparison.Ordinal);
            Assert.Single(harness.Server.Requests, r => r.Stage == RpmStage.Generation);
            Assert.Empty(harness.Retries);
        }
    }

    [Fact]
    public async Task An_exhausted_quota_is_not_retried()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            harness.Server.Behave = r => r.Stage == RpmStage.Generation
                ? Reply.Error(429, """{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}""", "application/json")
                : null;

            var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, Query));

            Assert.IsType<RpmRateLimitedException>(ex.InnerException);
            Assert.Contains("quota is exhausted: You exceeded your current quota", ex.Message, StringComparison.Ordinal);
            Assert.Single(harness.Server.Requests, r => r.Stage == RpmStage.Generation);
        }
    }

    [Fact]
    public async Task Two_503s_then_an_answer_cost_one_paid_call()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            int failures = 0;
            int paid = harness.Server.PaidCalls;
            harness.Server.Behave = r => r.Stage == RpmStage.Generation && Interlocked.Increment(ref failures) <= 2 ? Reply.Error(503, "Service Unavailable") : null;

            RpmResponse response = await pipeline.RespondAsync(model, Query);

            Assert.Equal(2, response.Usage.Calls);
            Assert.Equal(3, harness.Server.Requests.Count(r => r.Stage == RpmStage.Generation));
            Assert.Equal(paid + 2, harness.Server.PaidCalls);
            Assert.Equal([EndpointRetryReason.ServerError, EndpointRetryReason.ServerError], harness.Retries.Select(r => r.Reason));
        }
    }

    [Fact]
    public async Task Each_retry_is_logged_with_its_reason_status_attempt_and_delay()
    {
        var logs = new FakeLogCollector();
        using var loggerFactory = new LoggerFactory([new FakeLoggerProvider(logs)]);
        await using Harness harness = await Harness.StartAsync(miniLm, loggerFactory: loggerFactory);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Id.Id == 5001);
        int failures = 0;
        harness.Server.Behave = r => r.Stage == RpmStage.Generation && Interlocked.Increment(ref failures) == 1 ? Reply.Error(503, "Service Unavailable") : null;

        await pipeline.RespondAsync(model, Query);

        var retry = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 5001);
        Assert.Equal(LogLevel.Warning, retry.Level);
        Assert.Equal("Rpm.EndpointResilience", retry.Category);
        Assert.Equal(harness.Options.Endpoint.Authority, retry.GetStructuredStateValue("Endpoint"));
        Assert.Equal("ServerError", retry.GetStructuredStateValue("Reason"));
        Assert.Equal("503", retry.GetStructuredStateValue("StatusCode"));
        Assert.Equal("1", retry.GetStructuredStateValue("Attempt"));
        Assert.Equal("2", retry.GetStructuredStateValue("MaxAttempts"));
        Assert.Equal("Interactive", retry.GetStructuredStateValue("Profile"));
        Assert.Equal(Assert.Single(harness.Retries).Delay.ToString(), retry.GetStructuredStateValue("Delay"));
    }

    [Fact]
    public async Task A_dropped_connection_is_retried()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            int drops = 0;
            harness.Server.Behave = r => r.Stage == RpmStage.Generation && Interlocked.Increment(ref drops) == 1 ? new Reply { DropConnection = true } : null;

            RpmResponse response = await pipeline.RespondAsync(model, Query);

            Assert.Equal(2, response.Usage.Calls);
            Assert.Equal(EndpointRetryReason.ConnectionFailure, Assert.Single(harness.Retries).Reason);
        }
    }

    [Fact]
    public async Task An_unreachable_endpoint_fails_with_a_specific_error_after_the_retries()
    {
        await using Harness harness = await Harness.StartAsync(miniLm, o => o.Endpoint = new Uri("http://127.0.0.1:9/v1/"));
        RpmPipeline pipeline = harness.Pipeline();

        var ex = await Assert.ThrowsAsync<RpmStageException>(() => harness.BuildAsync(pipeline, 1));

        var endpoint = Assert.IsType<RpmEndpointException>(ex.InnerException);
        Assert.Null(endpoint.StatusCode);
        Assert.Contains("127.0.0.1:9", ex.Message, StringComparison.Ordinal);
        Assert.Contains("could not be reached after 2 retries (build profile)", ex.Message, StringComparison.Ordinal);
        Assert.All(harness.Retries, r => Assert.Equal(EndpointRetryReason.ConnectionFailure, r.Reason));
        Assert.All(harness.Retries, r => Assert.Equal(EndpointRetryProfile.Build, r.Profile));
    }

    [Fact]
    public async Task A_200_whose_body_is_a_login_page_says_it_is_not_a_chat_completion()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { Status = 200, RawBody = "<html><title>Sign in</title><body>Please sign in</body></html>", ContentType = "text/html" } : null;

            var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, Query));

            Assert.Contains("is not an OpenAI chat completion", ex.Message, StringComparison.Ordinal);
            Assert.Contains("/v1 API", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_Azure_prompt_filter_rejection_says_so_in_Azures_words_and_is_not_retried()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            harness.Server.Behave = r => r.Stage == RpmStage.Generation
                ? Reply.Error(400, """{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation"}}}""", "application/json")
                : null;

            var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, Query));

            Assert.Contains("triggering Azure OpenAI's content management policy", ex.Message, StringComparison.Ordinal);
            Assert.Contains("(content_filter)", ex.Message, StringComparison.Ordinal);
            Assert.Single(harness.Server.Requests, r => r.Stage == RpmStage.Generation);
        }
    }

    [Fact]
    public async Task A_200_with_no_choices_says_so_in_plain_words()
    {
        var (harness, pipeline, model) = await Built(miniLm);
        await using (harness)
        {
            harness.Server.Behave = r => r.Stage == RpmStage.Generation
                ? new Reply { RawBody = """{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[]}""" }
                : null;

            var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, Query));

            Assert.Contains("answered with a chat completion that has no usable choice", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_hung_attempt_is_abandoned_after_the_attempt_timeout_and_retried()
    {
        var (harness, pipeline, model) = await Built(miniLm, o => o.Interactive.AttemptTimeout = TimeSpan.FromSeconds(1));
        await using (harness)
        {
            int hangs = 0;
            harness.Server.Behave = r => r.Stage == RpmStage.Generation && Interlocked.Increment(ref hangs) == 1 ? new Reply { Delay = TimeSpan.FromSeconds(10) } : null;

            RpmResponse response = await pipeline.RespondAsync(model, Query);

            Assert.Equal(EndpointRetryReason.Timeout, Assert.Single(harness.Retries).Reason);
            Assert.Equal(2, harness.Server.Requests.Count(r => r.Stage == RpmStage.Generation));
            Assert.Equal(2, response.Usage.Calls);
        }
    }
}
