using System.Globalization;
using System.Text.Json;

namespace Rpm.Tests;

/// <summary>Reads the bundled MovieLens sets (LaMP format) for tests.</summary>
public static class TestData
{
    public static string DataDirectory
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "Rpm.Core.sln")))
            {
                dir = Path.GetDirectoryName(dir);
            }

            return Path.Combine(dir ?? throw new InvalidOperationException("Rpm.Core.sln not found above the test output."), "samples", "data");
        }
    }

    /// <summary>Twelve movies, sci-fi and romance alternating, for the synthetic histories of tests and benchmarks.</summary>
    public static IReadOnlyList<string> SampleMovies { get; } =
    [
        "Alien (1979). Genres: Horror, Sci-Fi.",
        "Notting Hill (1999). Genres: Comedy, Romance.",
        "Blade Runner (1982). Genres: Action, Sci-Fi, Thriller.",
        "Pretty Woman (1990). Genres: Comedy, Romance.",
        "The Matrix (1999). Genres: Action, Sci-Fi, Thriller.",
        "Titanic (1997). Genres: Drama, Romance.",
        "Star Wars (1977). Genres: Action, Adventure, Sci-Fi.",
        "Love Actually (2003). Genres: Comedy, Drama, Romance.",
        "Gattaca (1997). Genres: Drama, Sci-Fi, Thriller.",
        "The Notebook (2004). Genres: Drama, Romance.",
        "Dune (1984). Genres: Adventure, Sci-Fi.",
        "Sleepless in Seattle (1993). Genres: Comedy, Drama, Romance.",
    ];

    public static RpmTask MovieRating { get; } = RpmTask.Rating(
        "movielens-rating",
        "Predict the rating, from 0.5 to 5 stars in steps of 0.5, that the user gives a movie, from the movie's title and genres.",
        new RatingScale(0.5, 5, 0.5));

    /// <summary>Reads the rating users: each with its history (profile) and its query and gold.</summary>
    public static List<(string UserId, List<HistoryItem> History, string Query, string Gold)> MovieRatingUsers(int users, int maxHistory)
    {
        string dir = Path.Combine(DataDirectory, "movielens-ratings");
        using JsonDocument questions = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "questions.json")));
        using JsonDocument outputs = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "outputs.json")));
        var golds = outputs.RootElement.GetProperty("golds").EnumerateArray().ToDictionary(g => g.GetProperty("id").GetString()!, g => g.GetProperty("output").GetString()!);
        var result = new List<(string, List<HistoryItem>, string, string)>();
        foreach (JsonElement q in questions.RootElement.EnumerateArray().Take(users))
        {
            string id = q.GetProperty("id").GetString()!;
            var history = q.GetProperty("profile").EnumerateArray().TakeLast(maxHistory).Select(p => new HistoryItem(
                p.GetProperty("id").GetString()!,
                p.GetProperty("text").GetString()!,
                p.GetProperty("score").GetString()!,
                p.TryGetProperty("date", out JsonElement d) ? DateTimeOffset.Parse(d.GetString()!, CultureInfo.InvariantCulture) : null)).ToList();
            result.Add((id, history, q.GetProperty("input").GetString()!, golds[id]));
        }

        return result;
    }
}
