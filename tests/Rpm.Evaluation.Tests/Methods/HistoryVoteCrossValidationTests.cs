using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Methods;

/// <summary>The history vote's K and shrinkage are chosen by cross-validation over people, never on the answers they are scored on.</summary>
public sealed class HistoryVoteCrossValidationTests
{
    private static readonly string[] Genres = ["Comedy", "Drama", "Horror", "Sci-Fi", "Romance"];

    // People whose ratings follow their genres, with some noise from the index, so different grid points score differently.
    private static EvaluationDataset Ratings(int people)
    {
        RpmTask task = RpmTask.Rating("ratings", "Predict the rating.", new RatingScale(0.5, 5, 0.5));
        var users = new List<EvaluationUser>();
        for (int p = 0; p < people; p++)
        {
            string Rating(int genre, int i) => (0.5 * (1 + ((genre * 3) + p + (i % 3)) % 10)).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
            HistoryItem[] history = [.. Enumerable.Range(0, 12).Select(i => new HistoryItem($"p{p}-h{i}", $"Movie {i} ({1990 + i}). Genres: {Genres[i % 5]}.", Rating(i % 5, i)))];
            EvaluationQuery[] queries = [.. Enumerable.Range(0, 2).Select(q => new EvaluationQuery($"p{p}-q{q}", $"Rate it. movie: Film {q} (2001). Genres: {Genres[(p + q) % 5]}.", Rating((p + q) % 5, q + 1)) { Content = $"Film {q} (2001). Genres: {Genres[(p + q) % 5]}." })];
            users.Add(new EvaluationUser($"p{p}", $"p{p}", history, queries));
        }

        return new EvaluationDataset("ratings", task, users);
    }

    private static List<HistoryVoteTuning.Case> Cases(EvaluationDataset data) =>
    [
        .. data.Users.SelectMany(u => u.Queries.Select(q => new HistoryVoteTuning.Case(
            u, q, [.. u.History.Select((h, i) => new HistoryNeighbor(h, 1f / (1 + i + (q.Id.Length % 3)))).Take(20)]))),
    ];

    [Fact]
    public void Folds_deal_every_person_once_by_a_seeded_shuffle()
    {
        string[] people = [.. Enumerable.Range(0, 23).Select(i => $"p{i}")];

        Dictionary<string, int> one = HistoryVoteTuning.Folds(people, 5, seed: 1);
        Dictionary<string, int> again = HistoryVoteTuning.Folds(people.Reverse(), 5, seed: 1);
        Dictionary<string, int> other = HistoryVoteTuning.Folds(people, 5, seed: 2);

        Assert.Equal(people.Order(StringComparer.Ordinal), one.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(one.OrderBy(x => x.Key, StringComparer.Ordinal), again.OrderBy(x => x.Key, StringComparer.Ordinal));
        Assert.Equal([4, 4, 5, 5, 5], one.Values.GroupBy(f => f).Select(g => g.Count()).Order());
        Assert.NotEqual(one.OrderBy(x => x.Key, StringComparer.Ordinal), other.OrderBy(x => x.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void A_folds_parameters_do_not_depend_on_its_own_users_answers()
    {
        EvaluationDataset data = Ratings(15);
        List<HistoryVoteTuning.Case> cases = Cases(data);
        var fallback = new HistoryVoteTuning.Point(3, 1);
        var (_, before) = HistoryVoteTuning.Choose(data.Task, cases, 5, 1, fallback);

        // Change the golds of fold 1's people to the far end of the scale, and nothing else.
        Dictionary<string, int> foldOf = HistoryVoteTuning.Folds(data.Users.Select(u => u.PersonId), 5, 1);
        List<HistoryVoteTuning.Case> changed = [.. cases.Select(c => foldOf[c.User.PersonId] != 0 ? c
            : c with { Query = new EvaluationQuery(c.Query.Id, c.Query.Input, c.Query.Gold == "5.0" ? "0.5" : "5.0") { Content = c.Query.Content } })];
        var (_, after) = HistoryVoteTuning.Choose(data.Task, changed, 5, 1, fallback);

        Assert.Equal(5, before.Folds.Count);
        Assert.Equal(before.Folds[0].Parameters, after.Folds[0].Parameters);
        Assert.Equal(before.Folds[0].SelectionScore, after.Folds[0].SelectionScore);
        Assert.NotEqual(before.Folds[0].Score, after.Folds[0].Score); // fold 1 is scored on its own (changed) answers
        Assert.All(Enumerable.Range(1, 4), f => Assert.NotEqual(before.Folds[f].SelectionScore, after.Folds[f].SelectionScore));
    }

    [Fact]
    public async Task The_runner_answers_each_fold_with_its_chosen_parameters_and_reports_them()
    {
        EvaluationDataset data = Ratings(12);
        var progress = new SyncProgress();
        EvaluationResult result = await new EvaluationRunner(new EvaluationRunnerOptions { ModelId = "none", BootstrapResamples = 0, MaxConcurrency = 1 })
            .RunAsync(data, [new HistoryVoteMethod(), new UserPriorMethod()], null, new HashingEmbeddingGenerator(), progress);

        // The pass over every user is counted in the progress line: 12 steps before any user is answered, 36 in all.
        Assert.Equal(36, progress.Reports[^1].StepsTotal);
        Assert.Equal(36, progress.Reports[^1].StepsDone);
        Assert.Contains(progress.Reports, r => r.StepsDone == 12 && r.UsersDone == 0);

        MethodResult vote = result.Methods.Single(m => m.Name == "history-vote");
        CrossValidation cv = Assert.IsType<CrossValidation>(vote.Tuning);
        Assert.Null(result.Methods.Single(m => m.Name == "user-prior").Tuning);
        Assert.Equal(5, cv.Folds.Count);
        Assert.Equal(data.QueryCount, cv.Folds.Sum(f => f.Queries));
        Assert.Equal(LampMetrics.Mae, cv.Metric);

        // The reported MAE is the query-weighted mean of the fold scores: every query was answered with its fold's choice.
        Assert.Equal(vote.Metrics.Values[LampMetrics.Mae], cv.Folds.Sum(f => f.Score * f.Queries) / data.QueryCount, 9);

        // The reference column is user-prior on the same queries.
        Assert.Equal(result.Methods.Single(m => m.Name == "user-prior").Metrics.Values[LampMetrics.Mae], cv.Folds.Sum(f => f.ReferenceScore * f.Queries) / data.QueryCount, 9);

        string markdown = EvaluationReportWriter.RenderMarkdown(result);
        Assert.Contains("## How history-vote chose its parameters", markdown, StringComparison.Ordinal);
        Assert.Contains(cv.Folds[0].Parameters, markdown, StringComparison.Ordinal);
        Assert.Contains("\"tuning\"", EvaluationReportWriter.RenderJson(result), StringComparison.Ordinal);
        Assert.Contains("How history-vote chose its parameters", EvaluationReportWriter.RenderHtml(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_one_person_the_defaults_are_used_and_the_report_says_so()
    {
        EvaluationDataset data = Ratings(1);
        EvaluationResult result = await new EvaluationRunner(new EvaluationRunnerOptions { ModelId = "none", BootstrapResamples = 0 })
            .RunAsync(data, [new HistoryVoteMethod()], null, new HashingEmbeddingGenerator());

        CrossValidation cv = Assert.IsType<CrossValidation>(result.Methods[0].Tuning);
        Assert.Empty(cv.Folds);
        Assert.Contains("Not cross-validated", cv.Note, StringComparison.Ordinal);
        Assert.Contains("(Parameters: K = 3, shrinkage = 1.)", result.Methods[0].Explanations[0].Rationale, StringComparison.Ordinal);
    }

    private sealed class SyncProgress : IProgress<EvaluationProgress>
    {
        public List<EvaluationProgress> Reports { get; } = [];

        public void Report(EvaluationProgress value)
        {
            lock (Reports)
            {
                Reports.Add(value);
            }
        }
    }
}
