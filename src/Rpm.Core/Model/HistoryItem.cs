using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>One item of a user's history: the input the user saw and what the user answered.</summary>
public sealed class HistoryItem
{
    /// <summary>Initializes a new instance of the <see cref="HistoryItem"/> class.</summary>
    /// <param name="id">An identifier unique within the user's history.</param>
    /// <param name="input">The input the user saw (a product review, a movie description, a question).</param>
    /// <param name="output">What the user answered (a label, a rating, a text, an option).</param>
    /// <param name="timestamp">When the user answered, if known.</param>
    /// <param name="options">For a multiple-choice task, the options this question offered; otherwise <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The id, input or output is null or blank.</exception>
    [JsonConstructor]
    public HistoryItem(string id, string input, string output, DateTimeOffset? timestamp = null, IReadOnlyList<string>? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        ArgumentException.ThrowIfNullOrWhiteSpace(output);
        Id = id;
        Input = input;
        Output = output;
        Timestamp = timestamp;
        Options = options;
    }

    /// <summary>Gets the identifier of the item, unique within the user's history.</summary>
    public string Id { get; }

    /// <summary>Gets the input the user saw.</summary>
    public string Input { get; }

    /// <summary>Gets what the user answered.</summary>
    public string Output { get; }

    /// <summary>Gets when the user answered, if known.</summary>
    public DateTimeOffset? Timestamp { get; }

    /// <summary>Gets the options of a multiple-choice question; <see langword="null"/> otherwise.</summary>
    public IReadOnlyList<string>? Options { get; }
}
