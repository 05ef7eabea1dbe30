using Microsoft.ML.Tokenizers;

namespace Rpm;

/// <summary>Cuts untrusted input text to a token budget before it enters a prompt.</summary>
internal sealed class TextBudget
{
    private const int CharactersPerToken = 4;
    private readonly Tokenizer? _tokenizer;
    private readonly int _maxTokens;

    public TextBudget(RpmOptions options)
    {
        _tokenizer = options.Tokenizer;
        _maxTokens = options.MaxInputTokens;
    }

    /// <summary>Returns the text, or its head within the budget followed by a marker saying it was cut.</summary>
    public string Fit(string text)
    {
        if (_tokenizer is null)
        {
            int maxCharacters = _maxTokens * CharactersPerToken;
            return text.Length <= maxCharacters ? text : string.Concat(text.AsSpan(0, maxCharacters), " [...cut]");
        }

        int index = _tokenizer.GetIndexByTokenCount(text, _maxTokens, out _, out _, considerNormalization: false);
        return index >= text.Length ? text : string.Concat(text.AsSpan(0, index), " [...cut]");
    }

    /// <summary>Counts the tokens of a text (estimated without a tokenizer).</summary>
    public int Count(string text) =>
        _tokenizer?.CountTokens(text, considerNormalization: false) ?? ((text.Length + CharactersPerToken - 1) / CharactersPerToken);
}
