using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>
/// Everything RPM built for one user: the factors with their statistics (C_u), the reasoning memory
/// (S_u: every history item with its features, reasoning and embedding), and which models built it, when.
/// </summary>
/// <remarks>Instances are immutable: an update produces a new instance, so readers never see a half-updated model.</remarks>
public sealed class UserModel
{
    /// <summary>The version of the serialized form written by this library.</summary>
    internal const int CurrentFormatVersion = 1;

    /// <summary>Initializes a new instance of the <see cref="UserModel"/> class.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="task">The task the model was built for.</param>
    /// <param name="statistics">The user's factors with their statistics.</param>
    /// <param name="paths">The reasoning memory, one path per history item.</param>
    /// <exception cref="ArgumentException">The user id is blank, or two paths share an item id.</exception>
    [JsonConstructor]
    public UserModel(string userId, RpmTask task, IReadOnlyList<FactorStatistics> statistics, IReadOnlyList<ReasoningPath> paths)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(paths);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (ReasoningPath path in paths)
        {
            ArgumentNullException.ThrowIfNull(path, nameof(paths));
            if (!ids.Add(path.Item.Id))
            {
                throw new ArgumentException($"The history item id '{path.Item.Id}' appears more than once in the user model of '{userId}'.", nameof(paths));
            }
        }

        UserId = userId;
        Task = task;
        Statistics = statistics;
        Paths = paths;
    }

    /// <summary>Gets the user.</summary>
    public string UserId { get; }

    /// <summary>Gets the task the model was built for.</summary>
    public RpmTask Task { get; }

    /// <summary>Gets the user's factors with their statistics (C_u).</summary>
    public IReadOnlyList<FactorStatistics> Statistics { get; }

    /// <summary>Gets the reasoning memory (S_u), one path per history item, in history order.</summary>
    public IReadOnlyList<ReasoningPath> Paths { get; }

    /// <summary>Gets the user's factors.</summary>
    [JsonIgnore]
    public IEnumerable<Factor> Factors => Statistics.Select(s => s.Factor);

    /// <summary>Gets the id of the chat model that built the user model, if known.</summary>
    public string? ChatModelId { get; init; }

    /// <summary>Gets the id of the embedding model that produced the path embeddings, if known.</summary>
    public string? EmbeddingModelId { get; init; }

    /// <summary>Gets the number of dimensions of the path embeddings (0 when not indexed).</summary>
    public int EmbeddingDimensions { get; init; }

    /// <summary>Gets when the model was first built.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Gets when the model was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Gets the store version of the model: 0 until saved, then increased by every save (optimistic concurrency).</summary>
    public long Version { get; init; }

    /// <summary>Gets what building (and updating) the model cost so far.</summary>
    public ModelUsage BuildUsage { get; init; } = ModelUsage.None;

    /// <summary>Gets how clean the model is: the answers that needed a repair and the rules that stood in for a model judgment, over the build and every update.</summary>
    /// <remarks>A model stored before diagnostics existed reads as clean.</remarks>
    public BuildDiagnostics Diagnostics
    {
        get => field ?? BuildDiagnostics.None;
        init => field = value ?? BuildDiagnostics.None;
    }

    /// <summary>Gets the number of history features that fit none of the factors (unassigned).</summary>
    [JsonIgnore]
    public int UnassignedFeatureCount => Paths.Sum(p => p.Features.Count(f => f.IsUnassigned));

    /// <summary>Gets the version of the serialized form.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>Returns a copy of this model with another store version.</summary>
    /// <param name="version">The version.</param>
    /// <returns>The copy.</returns>
    public UserModel WithVersion(long version) => Copy(Statistics, Paths, version);

    /// <summary>Returns a copy of this model with other reasoning paths and everything else unchanged.</summary>
    /// <param name="paths">The paths, e.g. the same paths with their embeddings detached or restored by a store.</param>
    /// <returns>The copy.</returns>
    /// <exception cref="ArgumentException">Two paths share an item id.</exception>
    public UserModel WithPaths(IReadOnlyList<ReasoningPath> paths) => Copy(Statistics, paths);

    internal UserModel Copy(IReadOnlyList<FactorStatistics> statistics, IReadOnlyList<ReasoningPath> paths, long? version = null) =>
        new(UserId, Task, statistics, paths)
        {
            ChatModelId = ChatModelId,
            EmbeddingModelId = EmbeddingModelId,
            EmbeddingDimensions = EmbeddingDimensions,
            CreatedAt = CreatedAt,
            UpdatedAt = UpdatedAt,
            Version = version ?? Version,
            BuildUsage = BuildUsage,
            Diagnostics = Diagnostics,
            FormatVersion = FormatVersion,
        };
}
