using Microsoft.Extensions.AI;
using Rpm.Tests.Fakes;

namespace Rpm.Tests.StructuredOutput;

public sealed class StructuredOutputTests
{
    private static FeatureExtractionRequest Request() => new(RpmTask.Rating("r", "Rate the movie.", new RatingScale(1, 5, 1)), "item-7", "Alien (1979). Genres: Horror, Sci-Fi.");

    [Fact]
    public async Task The_schema_travels_in_ResponseFormat_and_a_valid_answer_costs_one_call()
    {
        var chat = new FakeChatClient();
        FeatureExtractionResult result = await new FeatureExtractor(chat, new RpmOptions()).ExtractAsync(Request());

        FakeRequest request = Assert.Single(chat.Requests);
        var format = Assert.IsType<ChatResponseFormatJson>(request.Options!.ResponseFormat);
        Assert.Equal("rpm_featurelist", format.SchemaName);
        Assert.Contains("\"features\"", format.Schema!.Value.GetRawText());
        Assert.Equal(["Horror genre", "Sci-Fi genre", "1970s release"], result.Features.Select(f => f.Name));
        Assert.Equal(new ModelUsage(1, 100, 20), result.Usage);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"features\": []}")]
    [InlineData("{\"feats\": [{\"name\": \"x\"}]}")]
    [InlineData("{\"features\": [{\"name\": \"\", \"context\": \"c\", \"factor\": null}]}")]
    public async Task A_bad_answer_is_retried_once_with_the_error_told_to_the_model(string bad)
    {
        var chat = new FakeChatClient { Respond = r => r.Attempt == 1 ? bad : null };
        FeatureExtractionResult result = await new FeatureExtractor(chat, new RpmOptions()).ExtractAsync(Request());

        Assert.Equal(2, chat.CallCount);
        FakeRequest retry = chat.Requests[1];
        Assert.Equal(ChatRole.Assistant, retry.Messages[^2].Role);
        Assert.Equal(bad, retry.Messages[^2].Text);
        Assert.StartsWith("That answer was not valid:", retry.Messages[^1].Text);
        Assert.NotEmpty(result.Features);
        Assert.Equal(2, result.Usage.Calls);
    }

    [Fact]
    public async Task Two_bad_answers_raise_an_exception_with_stage_item_and_raw_text()
    {
        var chat = new FakeChatClient { Respond = _ => "Sure! Here are the features: taste, price." };
        var ex = await Assert.ThrowsAsync<RpmModelOutputException>(() => new FeatureExtractor(chat, new RpmOptions()).ExtractAsync(Request()));

        Assert.Equal(RpmStage.FeatureExtraction, ex.Stage);
        Assert.Equal("item-7", ex.ItemId);
        Assert.Equal("Sure! Here are the features: taste, price.", ex.RawText);
        Assert.Equal(2, ex.Attempts);
        Assert.Contains("no JSON object", ex.Message);
        Assert.Equal(2, chat.CallCount);
    }

    [Fact]
    public async Task The_retry_count_is_configurable()
    {
        var chat = new FakeChatClient { Respond = _ => "{}" };
        await Assert.ThrowsAsync<RpmModelOutputException>(() => new FeatureExtractor(chat, new RpmOptions { MaxOutputRetries = 0 }).ExtractAsync(Request()));
        Assert.Equal(1, chat.CallCount);
    }

    [Fact]
    public async Task Answers_wrapped_in_code_fences_or_prose_are_read()
    {
        var chat = new FakeChatClient { Respond = r => "```json\n" + FakeChatClient.Answer(r) + "\n```\nHope this helps." };
        FeatureExtractionResult result = await new FeatureExtractor(chat, new RpmOptions()).ExtractAsync(Request());
        Assert.Equal(1, chat.CallCount);
        Assert.Equal(3, result.Features.Count);
    }

    [Fact]
    public async Task Without_schema_mode_the_schema_is_written_into_the_prompt_and_json_mode_requested()
    {
        var chat = new FakeChatClient();
        await new FeatureExtractor(chat, new RpmOptions { UseJsonSchemaResponseFormat = false }).ExtractAsync(Request());

        FakeRequest request = Assert.Single(chat.Requests);
        var format = Assert.IsType<ChatResponseFormatJson>(request.Options!.ResponseFormat);
        Assert.Null(format.Schema);
        Assert.Contains("Respond with a JSON value conforming to the following schema", request.Messages[^1].Text);
    }

    [Fact]
    public async Task A_failing_model_call_names_the_stage_and_item()
    {
        var chat = new FakeChatClient { Fail = _ => new HttpRequestException("503 Service Unavailable") };
        var ex = await Assert.ThrowsAsync<RpmStageException>(() => new FeatureExtractor(chat, new RpmOptions()).ExtractAsync(Request()));
        Assert.Equal(RpmStage.FeatureExtraction, ex.Stage);
        Assert.Equal("item-7", ex.ItemId);
        Assert.IsType<HttpRequestException>(ex.InnerException);
        Assert.Equal(1, chat.CallCount); // transport retries belong in chat-client middleware, not here
    }

    [Fact]
    public async Task Cancellation_is_not_wrapped()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new FeatureExtractor(new FakeChatClient(), new RpmOptions()).ExtractAsync(Request(), cts.Token));
    }

    [Fact]
    public async Task Shared_chat_options_are_cloned_not_mutated()
    {
        var shared = new ChatOptions { Temperature = 0.1f, ModelId = "m" };
        var chat = new FakeChatClient();
        await new FeatureExtractor(chat, new RpmOptions { ChatOptions = shared }).ExtractAsync(Request());
        Assert.Null(shared.ResponseFormat);
        Assert.Equal(0.1f, chat.Requests[0].Options!.Temperature);
        Assert.Equal("m", chat.Requests[0].Options!.ModelId);
    }

    [Fact]
    public async Task Unreported_usage_is_counted_as_calls_without_tokens()
    {
        var chat = new FakeChatClient { Usage = null };
        FeatureExtractionResult result = await new FeatureExtractor(chat, new RpmOptions()).ExtractAsync(Request());
        Assert.Equal(new ModelUsage(1, 0, 0, 1), result.Usage);
    }
}
