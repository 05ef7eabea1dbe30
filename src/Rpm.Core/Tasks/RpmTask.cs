using System.Text.RegularExpressions;
using System.Globalization;
using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>
/// Describes what a user answers: the kind of answer, a short description used in every prompt,
/// and the valid answers (a label set, a rating scale, or per-question options).
/// </summary>
/// <remarks>Create instances with <see cref="Classification"/>, <see cref="Rating"/>, <see cref="Generation"/> or <see cref="MultipleChoice"/>.</remarks>
public sealed partial class RpmTask
{
    private readonly Dictionary<string, string>? _labelLookup;

    [JsonConstructor]
    internal RpmTask(string name, RpmTaskKind kind, string description, IReadOnlyList<string>? labels, RatingScale? scale)
    {
        Name = name;
        Kind = kind;
        Description = description;
        Labels = labels ?? [];
        Scale = scale;
        if (Labels.Count > 0)
        {
            _labelLookup = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string label in Labels)
            {
                _labelLookup[label.Trim()] = label;
            }
        }
    }

    /// <summary>Gets a short identifier of the task, e.g. <c>movie-tagging</c>.</summary>
    public string Name { get; }

    /// <summary>Gets the kind of answer the task asks for.</summary>
    public RpmTaskKind Kind { get; }

    /// <summary>Gets the description of the task the model reads in every prompt.</summary>
    public string Description { get; }

    /// <summary>Gets the label set of a classification task, or the default options of a multiple-choice task; empty otherwise.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Gets the scale of a rating task; <see langword="null"/> otherwise.</summary>
    public RatingScale? Scale { get; }

    /// <summary>Creates a classification task: the answer is one label of <paramref name="labels"/>.</summary>
    /// <param name="name">A short identifier of the task.</param>
    /// <param name="description">What the user does, in one or two sentences, for the model.</param>
    /// <param name="labels">The label set; at least two distinct, non-empty labels.</param>
    /// <returns>The task.</returns>
    /// <exception cref="ArgumentException">A label is empty or repeated, or fewer than two labels are given.</exception>
    public static RpmTask Classification(string name, string description, IEnumerable<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new RpmTask(CheckName(name), RpmTaskKind.Classification, CheckDescription(description), CheckLabels(labels, nameof(labels), minimum: 2), null);
    }

    /// <summary>Creates a rating task: the answer is a number on <paramref name="scale"/>.</summary>
    /// <param name="name">A short identifier of the task.</param>
    /// <param name="description">What the user does, in one or two sentences, for the model.</param>
    /// <param name="scale">The scale of valid answers.</param>
    /// <returns>The task.</returns>
    public static RpmTask Rating(string name, string description, RatingScale scale)
    {
        ArgumentNullException.ThrowIfNull(scale);
        return new RpmTask(CheckName(name), RpmTaskKind.Rating, CheckDescription(description), null, scale);
    }

    /// <summary>Creates a free-text generation task.</summary>
    /// <param name="name">A short identifier of the task.</param>
    /// <param name="description">What the user does, in one or two sentences, for the model.</param>
    /// <returns>The task.</returns>
    public static RpmTask Generation(string name, string description) =>
        new(CheckName(name), RpmTaskKind.Generation, CheckDescription(description), null, null);

    /// <summary>Creates a multiple-choice task: the answer is one of the options of each question.</summary>
    /// <param name="name">A short identifier of the task.</param>
    /// <param name="description">What the user does, in one or two sentences, for the model.</param>
    /// <param name="defaultOptions">Options used for a question or history item that carries none of its own; may be empty when every item has its own options.</param>
    /// <returns>The task.</returns>
    public static RpmTask MultipleChoice(string name, string description, IEnumerable<string>? defaultOptions = null) =>
        new(CheckName(name), RpmTaskKind.MultipleChoice, CheckDescription(description), defaultOptions is null ? [] : CheckLabels(defaultOptions, nameof(defaultOptions), minimum: 2), null);

    /// <summary>
    /// Checks an answer against the task and returns it in canonical form: the label as the task
    /// spells it, a rating written on the scale's grid, the chosen option's text, or trimmed free text.
    /// </summary>
    /// <param name="answer">The answer to check.</param>
    /// <param name="options">The options of this question, for a multiple-choice task; <see langword="null"/> to use the task's default options.</param>
    /// <param name="normalized">The canonical answer, when the method returns <see langword="true"/>.</param>
    /// <param name="error">Why the answer is not valid, phrased so that a model can correct it.</param>
    /// <returns><see langword="true"/> when the answer is valid for the task.</returns>
    public bool TryNormalizeAnswer(string? answer, IReadOnlyList<string>? options, out string normalized, out string? error)
    {
        normalized = string.Empty;
        string trimmed = (answer ?? string.Empty).Trim();
        switch (Kind)
        {
            case RpmTaskKind.Classification:
                // A label that differs only in case, surrounding space, quotes or trailing punctuation is that label.
                if (_labelLookup is not null && (_labelLookup.TryGetValue(trimmed, out string? label) || _labelLookup.TryGetValue(EnumCoercion.NormalizeText(trimmed), out label)))
                {
                    normalized = label;
                    error = null;
                    return true;
                }

                error = $"'{RatingScale.Shorten(answer)}' is not one of the labels: {string.Join(", ", Labels)}.";
                return false;

            case RpmTaskKind.Rating:
                if (Scale!.TryParse(trimmed, out double value, out error))
                {
                    normalized = Scale.Format(value);
                    return true;
                }

                return false;

            case RpmTaskKind.MultipleChoice:
                IReadOnlyList<string> choices = options is { Count: > 0 } ? options : Labels;
                if (choices.Count == 0)
                {
                    error = "The question has no options to choose from.";
                    return false;
                }

                if (MatchOption(choices, trimmed) is string chosen)
                {
                    normalized = chosen;
                    error = null;
                    return true;
                }

                error = $"'{RatingScale.Shorten(answer)}' is not one of the options: {string.Join(" | ", choices)}.";
                return false;

            default:
                if (trimmed.Length == 0)
                {
                    error = "The answer is empty.";
                    return false;
                }

                normalized = trimmed;
                error = null;
                return true;
        }
    }

    // An option by its text (case, space, quotes and trailing punctuation aside), else by its letter ("B", "(B)", "B) text")
    // or its number ("2", "Option 2"), unless options themselves look like letters or numbers, which would be ambiguous.
    private static string? MatchOption(IReadOnlyList<string> choices, string answer)
    {
        string normalized = EnumCoercion.NormalizeText(answer);
        foreach (string text in new[] { answer, normalized })
        {
            var matches = choices.Where(c => string.Equals(c.Trim(), text, StringComparison.OrdinalIgnoreCase)).ToList();
            if (matches.Count >= 1)
            {
                return matches[0];
            }
        }

        Match marker = OptionMarkerRegex().Match(normalized);
        if (!marker.Success)
        {
            return null;
        }

        string rest = marker.Groups["rest"].Value.Trim();
        int index;
        if (marker.Groups["letter"].Success)
        {
            if (choices.Any(c => c.Trim().Length == 1 && char.IsAsciiLetter(c.Trim()[0])))
            {
                return null;
            }

            index = char.ToUpperInvariant(marker.Groups["letter"].Value[0]) - 'A';
        }
        else
        {
            if (choices.Any(c => double.TryParse(c.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            {
                return null;
            }

            index = int.Parse(marker.Groups["number"].Value, CultureInfo.InvariantCulture) - 1;
        }

        if (index < 0 || index >= choices.Count)
        {
            return null;
        }

        // "B) Some text" must name the same option by its text too.
        return rest.Length == 0 || string.Equals(EnumCoercion.NormalizeText(rest), EnumCoercion.NormalizeText(choices[index]), StringComparison.OrdinalIgnoreCase)
            ? choices[index]
            : null;
    }

    [GeneratedRegex(@"^(?:option\s+|choice\s+|answer\s*:?\s*)?[\(\[]?(?:(?<letter>[A-Za-z])|(?<number>\d{1,2}))[\)\]\.:]?(?:\s+(?<rest>.*))?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex OptionMarkerRegex();

    /// <summary>
    /// Checks a history for this task, as a build does before any call is paid for: no null item, unique ids, options
    /// where the task needs them, every output a valid answer. Returns the items with their outputs in canonical form.
    /// </summary>
    /// <param name="history">The history.</param>
    /// <returns>The items, outputs canonical (e.g. <c>4.0</c> for <c>4</c> on a half-star scale).</returns>
    /// <exception cref="ArgumentException">An item is invalid; the message names it and says why.</exception>
    public IReadOnlyList<HistoryItem> ValidateHistory(IEnumerable<HistoryItem> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        return HistoryValidation.Normalize(this, history, existing: null, nameof(history));
    }

    /// <summary>
    /// Gets the valid answers of a question as a list, for a JSON-schema enum: the labels, the question's options (else
    /// the task's default options), or every value of a rating scale of at most 250 values written canonically.
    /// </summary>
    /// <param name="options">The question's options, for a multiple-choice task.</param>
    /// <returns>The answers, or <see langword="null"/> for free text and scales too fine to list.</returns>
    public IReadOnlyList<string>? GetAnswerValues(IReadOnlyList<string>? options = null) => Kind switch
    {
        RpmTaskKind.Classification => Labels,
        RpmTaskKind.MultipleChoice => options is { Count: > 0 } ? [.. options.Distinct(StringComparer.Ordinal)] : Labels.Count > 0 ? Labels : null,
        RpmTaskKind.Rating when Scale!.Values.Count <= SchemaEdits.MaxEnumValues => StatisticLabels,
        _ => null,
    };

    /// <summary>Gets the answers whose propensity the statistics report, for a labelled task: the labels, or every value of the scale.</summary>
    internal IReadOnlyList<string> StatisticLabels => Kind switch
    {
        RpmTaskKind.Classification => Labels,
        RpmTaskKind.Rating => Scale!.Values.Select(Scale.Format).ToArray(),
        _ => Labels,
    };

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        RpmTaskKind.Rating => string.Create(CultureInfo.InvariantCulture, $"{Name} (rating {Scale!.Format(Scale.Minimum)}-{Scale.Format(Scale.Maximum)} step {Scale.Step})"),
        RpmTaskKind.Classification => $"{Name} (classification, {Labels.Count} labels)",
        _ => $"{Name} ({Kind})",
    };

    private static string CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return name.Trim();
    }

    private static string CheckDescription(string description)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        return description.Trim();
    }

    private static string[] CheckLabels(IEnumerable<string> labels, string parameterName, int minimum)
    {
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string? label in labels)
        {
            if (string.IsNullOrWhiteSpace(label))
            {
                throw new ArgumentException("Labels must not be null or blank.", parameterName);
            }

            string trimmed = label.Trim();
            if (!seen.Add(trimmed))
            {
                throw new ArgumentException($"The label '{trimmed}' appears more than once (labels are compared without case).", parameterName);
            }

            result.Add(trimmed);
        }

        if (result.Count < minimum)
        {
            throw new ArgumentException($"A task needs at least {minimum} labels; {result.Count} were given.", parameterName);
        }

        return [.. result];
    }
}
