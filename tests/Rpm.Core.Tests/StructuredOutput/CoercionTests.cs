using Microsoft.Extensions.AI;
using Rpm.Tests.Fakes;

namespace Rpm.Tests.StructuredOutput;

/// <summary>What is unambiguous is coerced; what is not is left for validation to reject.</summary>
public sealed class CoercionTests
{
    private static readonly RpmTask Tags = RpmTask.Classification("tags", "Tag.", ["sci-fi", "comedy", "true story"]);

    [Theory]
    [InlineData("Sci-Fi", "sci-fi")]
    [InlineData("  comedy. ", "comedy")]
    [InlineData("\"True Story\"", "true story")]
    [InlineData("**comedy**", "comedy")]
    public void A_label_that_differs_in_case_space_quotes_or_punctuation_is_the_label(string answer, string label)
    {
        Assert.True(Tags.TryNormalizeAnswer(answer, null, out string normalized, out _));
        Assert.Equal(label, normalized);
    }

    [Theory]
    [InlineData("sci")]
    [InlineData("comedy, sci-fi")]
    public void A_label_that_is_not_unambiguously_one_label_is_invalid(string answer) =>
        Assert.False(Tags.TryNormalizeAnswer(answer, null, out _, out _));

    [Theory]
    [InlineData("3.5", "3.5")]
    [InlineData("4/5", "4.0")]
    [InlineData("4 out of 5", "4.0")]
    [InlineData("3.5 stars", "3.5")]
    [InlineData(" 2. ", "2.0")]
    public void A_rating_written_with_its_unit_is_that_rating(string answer, string rating)
    {
        RpmTask task = RpmTask.Rating("r", "Rate.", new RatingScale(0.5, 5, 0.5));
        Assert.True(task.TryNormalizeAnswer(answer, null, out string normalized, out _));
        Assert.Equal(rating, normalized);
    }

    [Theory]
    [InlineData("B", "Mostly")]
    [InlineData("(c)", "Not really")]
    [InlineData("B) Mostly", "Mostly")]
    [InlineData("2", "Mostly")]
    [InlineData("Option 3", "Not really")]
    [InlineData("mostly.", "Mostly")]
    public void A_multiple_choice_answer_given_by_letter_number_or_loose_text_is_that_option(string answer, string option)
    {
        RpmTask task = RpmTask.MultipleChoice("mc", "Answer.");
        Assert.True(task.TryNormalizeAnswer(answer, ["Completely", "Mostly", "Not really"], out string normalized, out _));
        Assert.Equal(option, normalized);
    }

    [Theory]
    [InlineData("2", new[] { "1", "2", "3" }, "2")]      // numeric options: the text, never the position
    [InlineData("B) Completely", new[] { "Completely", "Mostly" }, null)] // letter and text disagree
    [InlineData("D", new[] { "Completely", "Mostly" }, null)]            // no fourth option
    public void A_multiple_choice_answer_that_is_ambiguous_is_never_guessed(string answer, string[] options, string? expected)
    {
        RpmTask task = RpmTask.MultipleChoice("mc", "Answer.");
        bool valid = task.TryNormalizeAnswer(answer, options, out string normalized, out _);
        Assert.Equal(expected is not null, valid);
        if (expected is not null)
        {
            Assert.Equal(expected, normalized);
        }
    }

    [Fact]
    public async Task Property_names_in_other_case_a_double_encoded_list_and_a_wrapping_object_are_read()
    {
        var chat = new FakeChatClient
        {
            Respond = _ => """{"data": {"Features": "[{\"Name\": \"Taste\", \"context\": \"the flavour\", \"factor\": \"Quality\"}]"}}""",
        };

        FeatureExtractionResult result = await new FeatureExtractor(chat, new RpmOptions()).ExtractAsync(new FeatureExtractionRequest(Tags, "i1", "A crisp apple."));

        Assert.Equal(1, chat.CallCount);
        Assert.Equal("Taste", Assert.Single(result.Features).Name);
    }

    [Fact]
    public async Task An_answer_only_as_plain_text_fills_a_one_string_schema()
    {
        var chat = new FakeChatClient { Respond = _ => "```\nsci-fi\n```" };

        ValidatedChatResponse<string> response = await chat.GetValidatedResponseAsync(
            [new ChatMessage(ChatRole.User, "Tag it.")],
            new ValidatedOutputRequest<PlainAnswer, string>(PlainAnswerContext.Default.PlainAnswer, (o, _) => OutputValidation<string>.Valid(o.Answer)));

        Assert.Equal("sci-fi", response.Result);
    }

    [Fact]
    public void ReadProperty_reads_an_invalid_answer_with_the_same_reader()
    {
        Assert.Equal("maybe", ValidatedChatClientExtensions.ReadProperty("<think>{\"answer\": \"no\"}</think> Final: {\"answer\": \"maybe\"}", "answer"));
        Assert.Equal("3.5", ValidatedChatClientExtensions.ReadProperty("{\"Answer\": 3.5}", "answer"));
        Assert.Null(ValidatedChatClientExtensions.ReadProperty("no json here", "answer"));
    }
}

public sealed class PlainAnswer
{
    [System.Text.Json.Serialization.JsonPropertyName("answer")]
    public required string Answer { get; set; }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(PlainAnswer))]
internal sealed partial class PlainAnswerContext : System.Text.Json.Serialization.JsonSerializerContext;
