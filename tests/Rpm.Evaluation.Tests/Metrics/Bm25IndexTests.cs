namespace Rpm.Evaluation.Tests.Metrics;

public sealed class Bm25IndexTests
{
    [Fact]
    public void Scores_match_BM25_Okapi_worked_by_hand()
    {
        // N = 3, lengths 2, 2, 1, avgdl = 5/3. df: a = 2, b = c = d = 1.
        var index = new Bm25Index(["a b", "a c", "d"]);
        double idfRare = Math.Log(2.5 / 1.5);                   // ln((3 - 1 + 0.5) / (1 + 0.5))
        double idfA = Math.Log(1.5 / 2.5);                      // negative: replaced by epsilon * mean idf
        double floor = 0.25 * ((idfA + (3 * idfRare)) / 4);
        double avgdl = 5.0 / 3.0;
        double Term(double idf, int f, int length) => idf * (f * 2.5 / (f + (1.5 * (0.25 + (0.75 * length / avgdl)))));

        Assert.Equal(idfRare, index.Idf("b"), 12);
        Assert.Equal(floor, index.Idf("a"), 12);
        double[] scores = index.Scores("b a");
        Assert.Equal(Term(idfRare, 1, 2) + Term(floor, 1, 2), scores[0], 12);
        Assert.Equal(Term(floor, 1, 2), scores[1], 12);
        Assert.Equal(0, scores[2], 12);
    }

    [Fact]
    public void Search_ranks_best_first_and_breaks_ties_by_position()
    {
        var index = new Bm25Index(["red apple", "green apple", "red red car", "blue sky", "blue sea", "yellow sun"]);

        IReadOnlyList<(int Index, double Score)> hits = index.Search("Red, APPLE!", 3);

        Assert.Equal([0, 2, 1], hits.Select(h => h.Index));
        Assert.True(hits[0].Score > hits[1].Score);
        Assert.Equal([0, 1], index.Search("zebra", 2).Select(h => h.Index));
        Assert.All(index.Search("zebra", 2), h => Assert.Equal(0, h.Score));
    }

    [Fact]
    public void Repeated_query_terms_count_each_time_as_rank_bm25_does()
    {
        var index = new Bm25Index(["x y", "z w", "q"]);

        Assert.Equal(2 * index.Scores("x")[0], index.Scores("x x")[0], 12);
    }
}
