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

        // Named by the item, so that an upload of many items says which one is wrong.
        if (string.IsNullOrWhiteSpace(input))
        {
            ThrowMissing(id, input, nameof(input), "input");
        }

        if (string.IsNullOrWhiteSpace(output))
        {
            ThrowMissing(id, output, nameof(output), "output (the user's answer)");
        }

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

    // Not inlined, so the throwing frame is Rpm.Core's even when a serializer's emitted constructor call inlines the
    // constructor (a web app's error mapping tells RPM's argument errors from the app's by that frame).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void ThrowMissing(string id, string? value, string parameter, string what) =>
        throw (value is null
            ? new ArgumentNullException(parameter, $"The history item '{id}' has no {what}.")
            : new ArgumentException($"The history item '{id}' has an empty {what}.", parameter));
}
