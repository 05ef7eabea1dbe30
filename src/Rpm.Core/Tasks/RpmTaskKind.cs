namespace Rpm;

/// <summary>The kind of answer a task asks the user (and the model) for.</summary>
public enum RpmTaskKind
{
    /// <summary>One label out of a fixed label set (e.g. LaMP-2 movie tagging).</summary>
    Classification,

    /// <summary>A number on a scale with a step (e.g. LaMP-3 product rating, 1 to 5).</summary>
    Rating,

    /// <summary>Free text (e.g. LaMP-5 scholarly title generation).</summary>
    Generation,

    /// <summary>One option out of the options each question offers (e.g. GlobalOpinionQA).</summary>
    MultipleChoice,
}
