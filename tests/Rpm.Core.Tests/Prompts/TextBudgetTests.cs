using Microsoft.ML.Tokenizers;

namespace Rpm.Tests.Prompts;

public sealed class TextBudgetTests
{
    private static readonly Tokenizer O200k = TiktokenTokenizer.CreateForModel("gpt-4o");

    [Fact(Timeout = 60_000)]
    public async Task A_one_megabyte_text_without_whitespace_is_cut_to_the_budget_from_a_bounded_head()
    {
        // Byte-pair encoding of one long run is quadratic in its length; this text took about ten minutes to cut before.
        string text = string.Concat(Enumerable.Repeat("abcdefghij", 100_000));
        var budget = new TextBudget(1024, O200k);

        string fitted = await Task.Run(() => budget.Fit(text));

        Assert.EndsWith(TextBudget.CutMarker, fitted, StringComparison.Ordinal);
        string head = fitted[..^TextBudget.CutMarker.Length];
        Assert.StartsWith(head, text, StringComparison.Ordinal);
        Assert.InRange(O200k.CountTokens(head), 1, 1024);
        Assert.True(head.Length <= 1024 * TextBudget.MaxCharactersPerToken);
    }

    [Fact]
    public void A_text_within_the_budget_is_kept_whole_and_a_longer_one_keeps_exactly_the_budget()
    {
        var budget = new TextBudget(8, O200k);

        Assert.Equal("The movie was fine.", budget.Fit("The movie was fine."));
        string cut = budget.Fit("one two three four five six seven eight nine ten eleven twelve");
        Assert.Equal(8, O200k.CountTokens(cut[..^TextBudget.CutMarker.Length]));
    }
}
