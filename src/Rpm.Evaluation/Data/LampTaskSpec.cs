using System.Globalization;
using System.Text.Json;

namespace Rpm.Evaluation;

/// <summary>
/// How to read a LaMP-shaped file pair as a task: the kind of answer, its labels or scale, and which profile fields
/// make a history item's input and output. Presets cover LaMP-1 to LaMP-7; any other LaMP-shaped set (such as the
/// MovieLens samples) is described on the command line or in a <c>task.json</c> file.
/// </summary>
/// <remarks>
/// Each preset's <see cref="ContentRule"/> is LaMP's (<c>LaMP/prompts/prompts.py</c>): LaMP-1 the two quoted candidate
/// titles; LaMP-2 the text after <c>description:</c>; LaMP-3 after <c>review:</c>; LaMP-4 after <c>article:</c>;
/// LaMP-5 after <c>paper:</c> (<c>rank_profiles.py</c> takes the text after the first colon, the same text for
/// LaMP-5's questions); LaMP-6 and LaMP-7 after the first colon.
/// </remarks>
public sealed class LampTaskSpec
{
    // Declared first: the presets below read it while the type initializes.
    private static readonly string[] MovieTagList =
    [
        "sci-fi", "based on a book", "comedy", "action", "twist ending", "dystopia", "dark comedy", "classic",
        "psychology", "fantasy", "romance", "thought-provoking", "social commentary", "violence", "true story",
    ];

    /// <summary>Initializes a new instance of the <see cref="LampTaskSpec"/> class.</summary>
    /// <param name="name">The task's name (e.g. <c>LaMP-2</c>).</param>
    /// <param name="kind">The kind of answer.</param>
    /// <param name="description">What the user does, for the model.</param>
    /// <param name="profileInputFields">The profile fields joined (with a blank line) into a history item's input; empty to use <paramref name="profileInputPlaceholder"/>.</param>
    /// <param name="profileOutputField">The profile field that holds a history item's output.</param>
    /// <param name="labels">The label set of a classification task.</param>
    /// <param name="scale">The scale of a rating task.</param>
    /// <param name="profileInputPlaceholder">The input of every history item when the profile has no input field (LaMP-7's tweets).</param>
    /// <param name="historyHasTaskAnswers">Whether profile outputs are answers of the task (false for LaMP-1).</param>
    /// <exception cref="ArgumentException">The description does not make a valid task.</exception>
    public LampTaskSpec(
        string name,
        RpmTaskKind kind,
        string description,
        IReadOnlyList<string> profileInputFields,
        string profileOutputField,
        IReadOnlyList<string>? labels = null,
        RatingScale? scale = null,
        string? profileInputPlaceholder = null,
        bool historyHasTaskAnswers = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        ArgumentNullException.ThrowIfNull(profileInputFields);
        ArgumentException.ThrowIfNullOrWhiteSpace(profileOutputField);
        if (profileInputFields.Count == 0 && string.IsNullOrWhiteSpace(profileInputPlaceholder))
        {
            throw new ArgumentException("Give at least one profile input field, or a placeholder input for profiles that have none.", nameof(profileInputFields));
        }

        Name = name;
        Kind = kind;
        Description = description;
        ProfileInputFields = profileInputFields;
        ProfileOutputField = profileOutputField;
        Labels = labels ?? [];
        Scale = scale;
        ProfileInputPlaceholder = profileInputPlaceholder;
        HistoryHasTaskAnswers = historyHasTaskAnswers;
        Task = kind switch
        {
            RpmTaskKind.Classification => RpmTask.Classification(name, description, Labels),
            RpmTaskKind.Rating => RpmTask.Rating(name, description, scale ?? throw new ArgumentException($"The rating task '{name}' needs a scale (minimum, maximum, step).", nameof(scale))),
            RpmTaskKind.MultipleChoice => RpmTask.MultipleChoice(name, description, Labels.Count > 0 ? Labels : null),
            _ => RpmTask.Generation(name, description),
        };
    }

    /// <summary>Gets the task's name.</summary>
    public string Name { get; }

    /// <summary>Gets the kind of answer.</summary>
    public RpmTaskKind Kind { get; }

    /// <summary>Gets what the user does, for the model.</summary>
    public string Description { get; }

    /// <summary>Gets the profile fields joined into a history item's input.</summary>
    public IReadOnlyList<string> ProfileInputFields { get; }

    /// <summary>Gets the profile field that holds a history item's output.</summary>
    public string ProfileOutputField { get; }

    /// <summary>Gets the label set (classification).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Gets the scale (rating).</summary>
    public RatingScale? Scale { get; }

    /// <summary>Gets the input of every history item when the profile has no input field.</summary>
    public string? ProfileInputPlaceholder { get; }

    /// <summary>Gets a value indicating whether profile outputs are answers of the task.</summary>
    public bool HistoryHasTaskAnswers { get; }

    /// <summary>Gets the task this spec describes.</summary>
    public RpmTask Task { get; }

    /// <summary>
    /// Gets where the content sits in a query's input (<see cref="EvaluationQuery.Content"/>): what retrieval and RPM's
    /// query features key on, as LaMP's retrievers do. Default <see cref="QueryContentRule.WholeInput"/>; the presets
    /// use LaMP's own rule per task.
    /// </summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public QueryContentRule ContentRule { get; init => field = value ?? throw new ArgumentNullException(nameof(value)); } = QueryContentRule.WholeInput;

    /// <summary>Gets LaMP-1, personalized citation identification: which of two references the author cites.</summary>
    public static LampTaskSpec Lamp1 { get; } = new(
        "LaMP-1", RpmTaskKind.Classification,
        "Given the title of a paper this user wrote, say which of two candidate references the user cites: [1] or [2]. The user's history lists papers the user wrote (title and abstract).",
        ["title"], "abstract", labels: ["[1]", "[2]"], historyHasTaskAnswers: false)
    {
        ContentRule = QueryContentRule.QuotedCandidates,
    };

    /// <summary>Gets LaMP-2, personalized movie tagging with 15 tags.</summary>
    public static LampTaskSpec Lamp2 { get; } = new(
        "LaMP-2", RpmTaskKind.Classification,
        "Tag a movie, given its description, with the one tag this user would give it.",
        ["description"], "tag", labels: MovieTagList)
    {
        ContentRule = QueryContentRule.After("description:"),
    };

    /// <summary>Gets LaMP-3, personalized product rating from 1 to 5.</summary>
    public static LampTaskSpec Lamp3 { get; } = new(
        "LaMP-3", RpmTaskKind.Rating,
        "Predict the rating, from 1 to 5, this user gave a product, given the user's review of it.",
        ["text"], "score", scale: new RatingScale(1, 5, 1))
    {
        ContentRule = QueryContentRule.After("review:"),
    };

    /// <summary>Gets LaMP-4, personalized news headline generation.</summary>
    public static LampTaskSpec Lamp4 { get; } = new(
        "LaMP-4", RpmTaskKind.Generation,
        "Write the headline this user, a journalist, would give a news article.",
        ["text"], "title")
    {
        ContentRule = QueryContentRule.After("article:"),
    };

    /// <summary>Gets LaMP-5, personalized scholarly title generation.</summary>
    public static LampTaskSpec Lamp5 { get; } = new(
        "LaMP-5", RpmTaskKind.Generation,
        "Write the title this user, a researcher, would give a paper, given its abstract.",
        ["abstract"], "title")
    {
        ContentRule = QueryContentRule.After("paper:"),
    };

    /// <summary>Gets LaMP-6, personalized email subject generation.</summary>
    public static LampTaskSpec Lamp6 { get; } = new(
        "LaMP-6", RpmTaskKind.Generation,
        "Write the subject line this user would give an email.",
        ["text"], "title")
    {
        ContentRule = QueryContentRule.After(":"),
    };

    /// <summary>Gets LaMP-7, personalized tweet paraphrasing.</summary>
    public static LampTaskSpec Lamp7 { get; } = new(
        "LaMP-7", RpmTaskKind.Generation,
        "Paraphrase a tweet the way this user writes tweets.",
        [], "text", profileInputPlaceholder: "Write a tweet.")
    {
        ContentRule = QueryContentRule.After(":"),
    };

    /// <summary>Gets the 15 movie tags of LaMP-2 (the official scorer still lists the old news categories; these are the right ones).</summary>
    public static IReadOnlyList<string> MovieTags => MovieTagList;

    /// <summary>Gets the presets, LaMP-1 to LaMP-7.</summary>
    public static IReadOnlyList<LampTaskSpec> Presets { get; } = [Lamp1, Lamp2, Lamp3, Lamp4, Lamp5, Lamp6, Lamp7];

    /// <summary>Finds a LaMP preset by name: <c>LaMP-2</c>, <c>LaMP_2</c>, <c>lamp2</c> or <c>2</c>.</summary>
    /// <param name="name">The name.</param>
    /// <param name="spec">The preset, when found.</param>
    /// <returns><see langword="true"/> when the name is a LaMP task.</returns>
    public static bool TryGetPreset(string? name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LampTaskSpec? spec)
    {
        string key = (name ?? string.Empty).Trim().ToUpperInvariant().Replace("LAMP", string.Empty, StringComparison.Ordinal).Trim('-', '_', ' ');
        spec = key.Length == 1 && key[0] is >= '1' and <= '7' ? Presets[key[0] - '1'] : null;
        return spec is not null;
    }

    /// <summary>Reads a task file (<c>task.json</c>; see <c>docs</c> in the README for its fields).</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The spec.</returns>
    /// <exception cref="EvaluationDataException">The file is not a valid task description.</exception>
    public static async Task<LampTaskSpec> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        TaskFile? file;
        try
        {
            ReadOnlyMemory<byte> json = JsonFiles.Utf8Json(path, await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));
            file = JsonSerializer.Deserialize(json.Span, EvaluationJsonContext.Default.TaskFile);
        }
        catch (JsonException ex)
        {
            throw new EvaluationDataException(path, null, $"not a valid task file: {JsonFiles.Describe(ex)}", ex);
        }

        if (file is null)
        {
            throw new EvaluationDataException(path, null, "the task file is empty (JSON null).");
        }

        try
        {
            return file.ToSpec();
        }
        catch (ArgumentException ex)
        {
            throw new EvaluationDataException(path, null, ex.Message, ex);
        }
    }

    /// <summary>Parses a kind name: <c>classification</c>, <c>rating</c>, <c>generation</c> or <c>multiple-choice</c>.</summary>
    /// <param name="text">The name.</param>
    /// <returns>The kind.</returns>
    /// <exception cref="ArgumentException">The name is not a kind.</exception>
    public static RpmTaskKind ParseKind(string text) => (text ?? string.Empty).Trim().ToUpperInvariant().Replace("-", string.Empty, StringComparison.Ordinal).Replace("_", string.Empty, StringComparison.Ordinal) switch
    {
        "CLASSIFICATION" => RpmTaskKind.Classification,
        "RATING" => RpmTaskKind.Rating,
        "GENERATION" => RpmTaskKind.Generation,
        "MULTIPLECHOICE" => RpmTaskKind.MultipleChoice,
        _ => throw new ArgumentException($"'{text}' is not a task kind; use classification, rating, generation or multiple-choice."),
    };

    /// <summary>Parses a scale written <c>min:max:step</c>, e.g. <c>0.5:5:0.5</c>.</summary>
    /// <param name="text">The scale.</param>
    /// <returns>The scale.</returns>
    /// <exception cref="ArgumentException">The text is not a scale.</exception>
    public static RatingScale ParseScale(string text)
    {
        string[] parts = (text ?? string.Empty).Split(':', StringSplitOptions.TrimEntries);
        if (parts.Length != 3
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double min)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double max)
            || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double step))
        {
            throw new ArgumentException($"'{text}' is not a scale; write minimum:maximum:step, e.g. 0.5:5:0.5 or 1:5:1.");
        }

        return new RatingScale(min, max, step);
    }

    /// <inheritdoc />
    public override string ToString() => Task.ToString();
}
