using Microsoft.ML.Tokenizers;

namespace Rpm;

/// <summary>
/// Cuts untrusted input text to a token budget before it enters a prompt (the head is kept, followed by
/// <c>[...cut]</c>). Every RPM stage and every evaluation baseline cuts text this way, so all methods see the same input.
/// </summary>
/// <remarks>
/// Cutting takes time linear in the text's length: only a bounded head (<see cref="MaxCharactersPerToken"/> characters a
/// token) is ever tokenized, because byte-pair encoding of one long run without whitespace costs time quadratic in its
/// length (a 1 MB run took minutes).
/// </remarks>
internal sealed class TextBudget
{
    /// <summary>The most characters a token is assumed to span when choosing the head to tokenize.</summary>
    public const int MaxCharactersPerToken = 8;

    /// <summary>The characters a token is assumed to span when no tokenizer is given.</summary>
    public const int CharactersPerToken = 4;

    /// <summary>The marker appended to a cut text.</summary>
    public const string CutMarker = " [...cut]";

    private readonly Tokenizer? _tokenizer;

    /// <summary>Initializes a new instance of the <see cref="TextBudget"/> class.</summary>
    /// <param name="maxTokens">The most tokens a text keeps; at least 1.</param>
    /// <param name="tokenizer">The tokenizer that counts tokens, or <see langword="null"/> for <see cref="CharactersPerToken"/> characters a token.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxTokens"/> is less than 1.</exception>
    public TextBudget(int maxTokens, Tokenizer? tokenizer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        MaxTokens = maxTokens;
        _tokenizer = tokenizer;
    }

    /// <summary>Initializes a new instance of the <see cref="TextBudget"/> class with the budget and tokenizer of <paramref name="options"/>.</summary>
    /// <param name="options">The options (<see cref="RpmOptions.MaxInputTokens"/>, <see cref="RpmOptions.Tokenizer"/>).</param>
    public TextBudget(RpmOptions options)
        : this(options?.MaxInputTokens ?? throw new ArgumentNullException(nameof(options)), options.Tokenizer)
    {
    }

    /// <summary>Gets the most tokens a text keeps.</summary>
    public int MaxTokens { get; }

    /// <summary>Returns the text, or its head within the budget followed by <see cref="CutMarker"/>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The text as it enters a prompt.</returns>
    public string Fit(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_tokenizer is null)
        {
            int maxCharacters = MaxTokens * CharactersPerToken;
            return text.Length <= maxCharacters ? text : string.Concat(text.AsSpan(0, maxCharacters), CutMarker);
        }

        // Tokenize only a head long enough to hold the budget (never more than MaxCharactersPerToken a token).
        long headLength = Math.Min(text.Length, (long)MaxTokens * MaxCharactersPerToken);
        ReadOnlySpan<char> head = text.AsSpan(0, (int)headLength);
        int index = _tokenizer.GetIndexByTokenCount(head, MaxTokens, out _, out _, considerNormalization: false);
        if (index >= text.Length)
        {
            return text;
        }

        return string.Concat(text.AsSpan(0, Math.Min(index, head.Length)), CutMarker);
    }

    /// <summary>Counts the tokens of a text (estimated at <see cref="CharactersPerToken"/> characters a token without a tokenizer).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The token count.</returns>
    public int Count(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _tokenizer?.CountTokens(text, considerNormalization: false) ?? ((text.Length + CharactersPerToken - 1) / CharactersPerToken);
    }
}
