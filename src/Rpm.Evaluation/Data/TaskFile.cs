using System.Text.Json.Serialization;

namespace Rpm.Evaluation;

/// <summary>The JSON shape of a <c>task.json</c> file that describes a LaMP-shaped data set which is not a LaMP preset.</summary>
internal sealed class TaskFile
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    /// <summary>classification, rating, generation or multiple-choice.</summary>
    [JsonPropertyName("kind")]
    public string? Kind { get; set; }

    [JsonPropertyName("description")]
    public string? Description { get; set; }

    [JsonPropertyName("labels")]
    public List<string>? Labels { get; set; }

    [JsonPropertyName("scale")]
    public ScaleFile? Scale { get; set; }

    [JsonPropertyName("profileInput")]
    public List<string>? ProfileInput { get; set; }

    [JsonPropertyName("profileOutput")]
    public string? ProfileOutput { get; set; }

    [JsonPropertyName("profileInputPlaceholder")]
    public string? ProfileInputPlaceholder { get; set; }

    /// <summary>The marker after which a query's content starts (e.g. "movie:"); absent: the whole input.</summary>
    [JsonPropertyName("contentMarker")]
    public string? ContentMarker { get; set; }

    [JsonPropertyName("historyHasTaskAnswers")]
    public bool? HistoryHasTaskAnswers { get; set; }

    public LampTaskSpec ToSpec()
    {
        if (string.IsNullOrWhiteSpace(Name) || string.IsNullOrWhiteSpace(Kind) || string.IsNullOrWhiteSpace(Description) || string.IsNullOrWhiteSpace(ProfileOutput))
        {
            throw new ArgumentException("A task file needs \"name\", \"kind\", \"description\" and \"profileOutput\" (and \"profileInput\", \"labels\" or \"scale\" as the kind requires).");
        }

        return new LampTaskSpec(
            Name,
            LampTaskSpec.ParseKind(Kind),
            Description,
            ProfileInput ?? [],
            ProfileOutput,
            Labels,
            Scale is null ? null : new RatingScale(Scale.Minimum, Scale.Maximum, Scale.Step),
            ProfileInputPlaceholder,
            HistoryHasTaskAnswers ?? true)
        {
            ContentRule = string.IsNullOrWhiteSpace(ContentMarker) ? QueryContentRule.WholeInput : QueryContentRule.After(ContentMarker),
        };
    }
}

/// <summary>The scale of a task file.</summary>
internal sealed class ScaleFile
{
    [JsonPropertyName("minimum")]
    public double Minimum { get; set; }

    [JsonPropertyName("maximum")]
    public double Maximum { get; set; }

    [JsonPropertyName("step")]
    public double Step { get; set; }
}
