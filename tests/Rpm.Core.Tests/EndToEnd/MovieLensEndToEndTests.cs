using System.Text.RegularExpressions;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Tests.EndToEnd;

/// <summary>
/// The whole method over real MovieLens users (bundled data), the fake chat model and the real local MiniLM embeddings.
/// The fake's answers are not a quality result; these tests check that every stage runs on real histories and that
/// feature-based retrieval finds genuinely similar past items.
/// </summary>
[Collection(MiniLmCollection.Name)]
public sealed partial class MovieLensEndToEndTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task Real_users_get_a_model_and_a_valid_personalized_answer()
    {
        var users = TestData.MovieRatingUsers(users: 3, maxHistory: 15);
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);

        double retrievedOverlap = 0, historyOverlap = 0;
        foreach (var (userId, history, query, _) in users)
        {
            chat.Reset();
            UserModel model = await pipeline.BuildUserModelAsync(userId, TestData.MovieRating, history);
            Assert.Equal(2 * history.Count + 1, chat.CallCount);
            Assert.Equal(history.Count, model.Paths.Count);
            Assert.NotEmpty(model.Statistics);
            Assert.All(model.Statistics, s => Assert.InRange(s.Propensity.Values.Sum(), s.Coverage == 0 ? 0 : 0.999, 1.001));

            chat.Reset();
            RpmResponse response = await pipeline.RespondAsync(model, new RpmQuery(query, id: userId));
            Assert.Equal(2, chat.CallCount);
            Assert.True(TestData.MovieRating.TryNormalizeAnswer(response.Answer, null, out _, out _));
            Assert.Equal(3, response.Examples.Count);

            HashSet<string> queryGenres = Genres(query);
            retrievedOverlap += response.Examples.Average(e => Jaccard(queryGenres, Genres(e.Path.Item.Input)));
            historyOverlap += history.Average(h => Jaccard(queryGenres, Genres(h.Input)));
        }

        // Retrieval by feature embeddings must find items closer in genre than the user's history on average.
        Assert.True(retrievedOverlap > historyOverlap, $"retrieved genre overlap {retrievedOverlap / users.Count:F3} <= history average {historyOverlap / users.Count:F3}");
    }

    private static HashSet<string> Genres(string text)
    {
        Match match = GenresRegex().Match(text);
        return match.Success ? [.. match.Groups[1].Value.TrimEnd('.').Split(',', StringSplitOptions.TrimEntries)] : [];
    }

    private static double Jaccard(HashSet<string> a, HashSet<string> b) =>
        a.Count + b.Count == 0 ? 0 : (double)a.Intersect(b).Count() / a.Union(b).Count();

    [GeneratedRegex(@"Genres:\s*([^\n]+)")]
    private static partial Regex GenresRegex();
}
