namespace Rpm.Benchmarks.Turns;

/// <summary>
/// Built user models made without any model call, saved straight into a store: N reasoning paths with user-specific ids
/// and texts (every id and text carries the user's tag, so a leak into another user's prompt is detectable) and random
/// unit embeddings of <see cref="Dimensions"/> floats, the size of MiniLM's.
/// </summary>
public static class SyntheticUsers
{
    /// <summary>The embedding length of every path (all-MiniLM-L6-v2's).</summary>
    public const int Dimensions = 384;

    /// <summary>The factors of every synthetic model; the first is the one the fixed query features name.</summary>
    public static readonly string[] Factors = ["Excitement", "Lightness", "Seriousness", "Imagination", "Era"];

    public static RpmTask Task { get; } = RpmTask.Rating("movie-rating", "Rate how much the user likes the movie, from 0.5 to 5 stars.", new RatingScale(0.5, 5, 0.5));

    /// <summary>The tag that marks every id and text of a user's model: <c>usr-&lt;user id&gt;-</c>.</summary>
    public static string Tag(string userId) => "usr-" + userId + "-";

    /// <summary>A built model of <paramref name="items"/> history items for <paramref name="userId"/>, the same on every call.</summary>
    public static UserModel Create(string userId, int items)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(items);
        string tag = Tag(userId);
        var random = new Random(StringComparer.Ordinal.GetHashCode(userId) ^ items);
        var paths = new ReasoningPath[items];
        var vector = new float[Dimensions];
        for (int i = 0; i < items; i++)
        {
            string factor = Factors[i % Factors.Length];
            string rating = (((i % 10) + 1) / 2.0).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
            var item = new HistoryItem(
                $"{tag}item-{i}",
                $"{tag}title-{i} ({1950 + (i % 70)}). Genres: Action, Drama, Thriller.",
                rating,
                new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(i));
            Feature[] features =
            [
                new("Action genre", $"{tag}item-{i} is labelled Action", factor, true, FeaturePolarity.Positive),
                new("Drama genre", $"{tag}item-{i} is labelled Drama", "Seriousness"),
                new($"{1950 + (i % 70) / 10 * 10}s release", $"{tag}item-{i} was released in {1950 + (i % 70)}", "Era"),
            ];
            string reasoning = $"{tag}reasoning-{i}: the film touches the user's factor {factor}, which this user weighs strongly; with its pacing and era that leads to {rating} stars.";
            double norm = 0;
            for (int d = 0; d < Dimensions; d++)
            {
                vector[d] = (float)((random.NextDouble() * 2) - 1);
                norm += vector[d] * vector[d];
            }

            float scale = (float)(1 / Math.Sqrt(norm));
            var embedding = new float[Dimensions];
            for (int d = 0; d < Dimensions; d++)
            {
                embedding[d] = vector[d] * scale;
            }

            paths[i] = new ReasoningPath(item, features, reasoning, embedding);
        }

        FactorStatistics[] statistics =
        [
            .. Factors.Select((f, n) => new FactorStatistics(
                new Factor(f, $"How {f.ToLowerInvariant()} in a film shapes this user's ratings."),
                items / Factors.Length,
                propensity: new Dictionary<string, double> { ["positive"] = 0.5 + (n * 0.1), ["negative"] = 0.5 - (n * 0.1) },
                meanRating: 2.5 + (n * 0.3))),
        ];
        DateTimeOffset at = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return new UserModel(userId, Task, statistics, paths)
        {
            ChatModelId = "turn-model",
            EmbeddingDimensions = Dimensions,
            CreatedAt = at,
            UpdatedAt = at,
        };
    }

    /// <summary>The query vector every turn embeds to (the fixed generator returns it for any text): a unit vector.</summary>
    public static float[] QueryVector()
    {
        var random = new Random(384);
        var vector = new float[Dimensions];
        for (int d = 0; d < Dimensions; d++)
        {
            vector[d] = (float)((random.NextDouble() * 2) - 1);
        }

        float norm = (float)Math.Sqrt(vector.Sum(v => v * v));
        return [.. vector.Select(v => v / norm)];
    }
}
