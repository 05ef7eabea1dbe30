namespace Rpm;

/// <summary>What a feature extractor reads: one input, and what is known about the user so far.</summary>
public sealed class FeatureExtractionRequest
{
    /// <summary>Initializes a new instance of the <see cref="FeatureExtractionRequest"/> class.</summary>
    /// <param name="task">The task.</param>
    /// <param name="itemId">The id of the history item or query, reported in errors.</param>
    /// <param name="input">The input to read.</param>
    /// <param name="options">The options of a multiple-choice question, if any.</param>
    /// <param name="factors">The user's factors with their statistics for a factor-aware extraction (stage 5), or <see langword="null"/> for stage 1.</param>
    /// <exception cref="ArgumentNullException"><paramref name="task"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="itemId"/> or <paramref name="input"/> is blank.</exception>
    public FeatureExtractionRequest(RpmTask task, string itemId, string input, IReadOnlyList<string>? options = null, IReadOnlyList<FactorStatistics>? factors = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentException.ThrowIfNullOrWhiteSpace(itemId);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        Task = task;
        ItemId = itemId;
        Input = input;
        Options = options;
        Factors = factors;
    }

    /// <summary>Gets the task.</summary>
    public RpmTask Task { get; }

    /// <summary>Gets the id of the history item or query.</summary>
    public string ItemId { get; }

    /// <summary>Gets the input to read.</summary>
    public string Input { get; }

    /// <summary>Gets the options of a multiple-choice question, if any.</summary>
    public IReadOnlyList<string>? Options { get; }

    /// <summary>
    /// Gets the user's factors with their statistics. When present the extraction is factor-aware
    /// (stage 5 of the method): each feature is tagged with one of these factors or left unassigned.
    /// When <see langword="null"/> the model suggests a factor freely (stage 1).
    /// </summary>
    public IReadOnlyList<FactorStatistics>? Factors { get; }
}
