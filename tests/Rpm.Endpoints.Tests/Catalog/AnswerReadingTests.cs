using System.Text.Json.Nodes;
using Rpm.Endpoints.Tests.Server;

namespace Rpm.Endpoints.Tests.Catalog;

/// <summary>
/// Where real models put the JSON: after reasoning blocks, in fences, after an echoed schema, before prose, as numbers
/// where strings are asked for, in a reasoning field. Each reads the right answer from one paid call and caches it.
/// </summary>
[Collection(EndpointCollection.Name)]
public sealed class AnswerReadingTests(MiniLm miniLm)
{
    private static string Answer(ServedRequest r, string answer) => new JsonObject { ["rationale"] = "Sci-fi carries this user's high ratings.", ["citations"] = new JsonArray(), ["answer"] = answer }.ToJsonString();

    private async Task<(RpmResponse Response, Harness Harness, int Paid, long Cached)> RespondWith(Func<ServedRequest, string> content)
    {
        Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);
        int paidBefore = harness.Server.PaidCalls;
        long cachedBefore = await harness.CachedAnswersAsync();
        harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { Content = content(r) } : null;
        RpmResponse response = await pipeline.RespondAsync(model, "movie: Aliens (1986). Genres: Action, Sci-Fi.");
        return (response, harness, harness.Server.PaidCalls - paidBefore, await harness.CachedAnswersAsync() - cachedBefore);
    }

    [Fact]
    public async Task A_think_block_with_braces_before_the_JSON_is_skipped()
    {
        var (response, harness, paid, cached) = await RespondWith(r =>
            "<think>The user likes {sci-fi}; a draft would be {\"answer\": \"1.0\"} but no.</think>\n" + Answer(r, "4.5"));
        await using (harness)
        {
            Assert.Equal("4.5", response.Answer);
            Assert.Equal(2, paid);
            Assert.Equal(2, cached);
        }
    }

    [Fact]
    public async Task A_JSON_code_fence_between_prose_is_read()
    {
        var (response, harness, paid, _) = await RespondWith(r => "Here is my answer:\n```json\n" + Answer(r, "4.0") + "\n```\nLet me know if you need more.");
        await using (harness)
        {
            Assert.Equal("4.0", response.Answer);
            Assert.Equal(2, paid);
        }
    }

    [Fact]
    public async Task An_echoed_copy_of_the_schema_before_the_answer_is_not_taken_for_it()
    {
        var (response, harness, paid, _) = await RespondWith(r =>
            "Schema: {\"type\":\"object\",\"properties\":{\"rationale\":{\"type\":\"string\"},\"answer\":{\"type\":\"string\"}},\"required\":[\"rationale\",\"answer\"]}\nAnswer: " + Answer(r, "3.5"));
        await using (harness)
        {
            Assert.Equal("3.5", response.Answer);
            Assert.Equal(2, paid);
        }
    }

    [Fact]
    public async Task Trailing_prose_after_the_JSON_is_ignored()
    {
        var (response, harness, _, _) = await RespondWith(r => Answer(r, "5.0") + "\n\nI hope this prediction helps! {Note: ratings are subjective.}");
        await using (harness)
        {
            Assert.Equal("5.0", response.Answer);
        }
    }

    [Fact]
    public async Task A_rating_sent_as_a_JSON_number_is_coerced_to_the_scale()
    {
        var (response, harness, paid, cached) = await RespondWith(_ => "{\"rationale\": \"Sci-fi again.\", \"citations\": [], \"answer\": 3.5}");
        await using (harness)
        {
            Assert.Equal("3.5", response.Answer);
            Assert.Equal(2, paid);
            Assert.Equal(2, cached);
        }
    }

    [Fact]
    public async Task Of_a_draft_and_a_final_answer_the_final_one_is_used()
    {
        var (response, harness, _, _) = await RespondWith(r => "First guess: " + Answer(r, "2.0") + "\nOn reflection: " + Answer(r, "4.5"));
        await using (harness)
        {
            Assert.Equal("4.5", response.Answer);
        }
    }

    [Fact]
    public async Task A_repeated_key_takes_its_last_value_as_JavaScript_does()
    {
        var (response, harness, paid, _) = await RespondWith(_ => "{\"rationale\": \"Draft.\", \"answer\": \"1.0\", \"rationale\": \"Sci-fi, as always.\", \"citations\": [], \"answer\": \"4.5\"}");
        await using (harness)
        {
            Assert.Equal("4.5", response.Answer);
            Assert.Equal("Sci-fi, as always.", response.Rationale);
            Assert.Equal(2, paid);
        }
    }

    [Fact]
    public async Task An_answer_that_a_reasoning_parser_moved_to_reasoning_content_is_read_from_there()
    {
        // vLLM with --reasoning-parser and guided decoding: the JSON lands in reasoning_content, content is null.
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);
        harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { NullContent = true, ReasoningContent = "Thinking... " + Answer(r, "4.5") } : null;

        RpmResponse response = await pipeline.RespondAsync(model, "movie: Aliens (1986). Genres: Action, Sci-Fi.");

        Assert.Equal("4.5", response.Answer);
        Assert.Equal(2, response.Usage.Calls);
    }

    [Fact]
    public async Task An_empty_answer_whose_text_went_to_Ollamas_reasoning_field_says_so_and_is_not_cached()
    {
        // Ollama's /v1 endpoint with a thinking model (e.g. gemma4): content "", all text in "reasoning".
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);
        long cachedBefore = await harness.CachedAnswersAsync();
        harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { Content = string.Empty, Reasoning = "The user rates sci-fi highly, so a high rating fits this movie." } : null;

        var ex = await Assert.ThrowsAsync<RpmModelOutputException>(() => pipeline.RespondAsync(model, "movie: Aliens (1986). Genres: Action, Sci-Fi."));

        Assert.Equal(ModelOutputFailure.Empty, ex.Failure);
        Assert.Equal(RpmStage.Generation, ex.Stage);
        Assert.Contains("reasoning field", ex.Message, StringComparison.Ordinal);
        Assert.Contains("63 characters", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, harness.Server.Requests.Count(r => r.Stage == RpmStage.Generation));
        Assert.Equal(cachedBefore + 1, await harness.CachedAnswersAsync()); // the query's features only
    }

    [Fact]
    public async Task An_answer_cut_inside_its_think_block_is_reported_as_truncated()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        RpmPipeline pipeline = harness.Pipeline();
        UserModel model = await harness.BuildAsync(pipeline);
        harness.Server.Behave = r => r.Stage == RpmStage.Generation ? new Reply { Content = "<think>Let me weigh every factor of this user {coverage 3, propensity", FinishReason = "length" } : null;

        var ex = await Assert.ThrowsAsync<RpmModelOutputException>(() => pipeline.RespondAsync(model, "movie: Aliens (1986). Genres: Action, Sci-Fi."));

        Assert.Equal(ModelOutputFailure.Truncated, ex.Failure);
        Assert.Contains("output token limit", ex.Message, StringComparison.Ordinal);
        ServedRequest repair = harness.Server.Requests.Last(r => r.Stage == RpmStage.Generation);
        Assert.Contains("shorter answer", repair.Request.Messages[^1].Text, StringComparison.Ordinal);
    }
}
