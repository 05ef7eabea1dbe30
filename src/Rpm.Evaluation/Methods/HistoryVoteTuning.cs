using System.Globalization;

namespace Rpm.Evaluation;

/// <summary>
/// The history vote's parameters chosen by k-fold cross-validation over people: folds are dealt from a seeded shuffle
/// of the people; for each fold, every grid point is scored on the other folds' queries with the task's first metric
/// (MAE for ratings, accuracy otherwise), the best one (the first in grid order on a tie) answers this fold.
/// </summary>
internal static class HistoryVoteTuning
{
    /// <summary>The K grid: how many of the most similar history items vote.</summary>
    public static readonly int[] Neighbors = [1, 2, 3, 5, 10, 20];

    /// <summary>The shrinkage grid (ratings only): the pseudo-weight of the user's mean rating.</summary>
    public static readonly double[] Shrinkages = [0, 0.5, 1, 2, 4, 8];

    /// <summary>One query with its user's history and its neighbors, most similar first (at most the grid's largest K).</summary>
    public sealed record Case(EvaluationUser User, EvaluationQuery Query, IReadOnlyList<HistoryNeighbor> Neighbors);

    /// <summary>A grid point.</summary>
    public sealed record Point(int K, double Shrinkage)
    {
        public string Describe(RpmTask task) => task.Kind == RpmTaskKind.Rating
            ? string.Create(CultureInfo.InvariantCulture, $"K = {K}, shrinkage = {Shrinkage:0.##}")
            : string.Create(CultureInfo.InvariantCulture, $"K = {K}");

        public ModelFreePredictorOptions Options() => new() { RetrievalCount = K, RatingShrinkage = Shrinkage };
    }

    public static IReadOnlyList<Point> Grid(RpmTask task) => task.Kind == RpmTaskKind.Rating
        ? [.. Neighbors.SelectMany(k => Shrinkages.Select(s => new Point(k, s)))]
        : [.. Neighbors.Select(k => new Point(k, 1))];

    public static string DescribeGrid(RpmTask task) => task.Kind == RpmTaskKind.Rating
        ? $"K in {{{string.Join(", ", Neighbors)}}} x shrinkage toward the user's mean in {{{string.Join(", ", Shrinkages.Select(s => s.ToString("0.##", CultureInfo.InvariantCulture)))}}}"
        : $"K in {{{string.Join(", ", Neighbors)}}}";

    /// <summary>Assigns every person a fold: the people in ordinal order, shuffled with the seed, dealt round-robin.</summary>
    public static Dictionary<string, int> Folds(IEnumerable<string> people, int folds, int seed)
    {
        string[] order = [.. people.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        new Random(seed).Shuffle(order);
        return order.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i % folds, StringComparer.Ordinal);
    }

    /// <summary>Chooses a grid point per fold and returns them with the report of the cross-validation.</summary>
    /// <returns>The chosen point per person, and the report.</returns>
    public static (Dictionary<string, Point> ByPerson, CrossValidation Report) Choose(RpmTask task, IReadOnlyList<Case> cases, int folds, int seed, Point fallback)
    {
        string metric = LampMetrics.For(task.Kind)[0];
        bool lower = MetricSet.LowerIsBetter(metric);
        string[] people = [.. cases.Select(c => c.User.PersonId).Distinct(StringComparer.Ordinal)];
        int k = Math.Min(folds, people.Length);
        if (k < 2)
        {
            return (people.ToDictionary(p => p, _ => fallback, StringComparer.Ordinal), new CrossValidation
            {
                Metric = metric,
                Grid = DescribeGrid(task),
                Seed = seed,
                Folds = [],
                Note = $"Not cross-validated: the run has {people.Length} person, and choosing parameters needs other people's queries; the defaults ({fallback.Describe(task)}) were used.",
            });
        }

        Dictionary<string, int> foldOf = Folds(people, k, seed);
        IReadOnlyList<Point> grid = Grid(task);

        // Every case scored at every grid point once; a fold's choice then only sums rows.
        double[,] score = new double[cases.Count, grid.Count];
        double[] reference = new double[cases.Count];
        var predictors = grid.Select(p => new ModelFreePredictor(options: p.Options())).ToArray();
        var prior = new ModelFreePredictor();
        for (int i = 0; i < cases.Count; i++)
        {
            Case c = cases[i];
            RpmQuery query = c.Query.ToRpmQuery();
            for (int g = 0; g < grid.Count; g++)
            {
                score[i, g] = Score(task, c.Query.Gold, predictors[g].Predict(task, c.User.History, query, c.Neighbors).Answer);
            }

            reference[i] = Score(task, c.Query.Gold, prior.Predict(task, c.User.History, query, []).Answer);
        }

        var byPerson = new Dictionary<string, Point>(StringComparer.Ordinal);
        var report = new List<CrossValidationFold>();
        for (int f = 0; f < k; f++)
        {
            int[] inFold = [.. Enumerable.Range(0, cases.Count).Where(i => foldOf[cases[i].User.PersonId] == f)];
            int[] others = [.. Enumerable.Range(0, cases.Count).Where(i => foldOf[cases[i].User.PersonId] != f)];
            int best = 0;
            double bestScore = double.NaN;
            for (int g = 0; g < grid.Count; g++)
            {
                double s = others.Length == 0 ? 0 : others.Average(i => score[i, g]);
                if (double.IsNaN(bestScore) || (lower ? s < bestScore : s > bestScore))
                {
                    best = g;
                    bestScore = s;
                }
            }

            foreach (string person in foldOf.Where(x => x.Value == f).Select(x => x.Key))
            {
                byPerson[person] = grid[best];
            }

            report.Add(new CrossValidationFold
            {
                Index = f + 1,
                Users = inFold.Select(i => cases[i].User.Id).Distinct(StringComparer.Ordinal).Count(),
                Queries = inFold.Length,
                Parameters = grid[best].Describe(task),
                SelectionScore = bestScore,
                Score = inFold.Length == 0 ? double.NaN : inFold.Average(i => score[i, best]),
                ReferenceScore = inFold.Length == 0 ? double.NaN : inFold.Average(i => reference[i]),
            });
        }

        return (byPerson, new CrossValidation { Metric = metric, Grid = DescribeGrid(task), Seed = seed, Folds = report });
    }

    // One query's contribution to the metric, as LampMetrics scores it: absolute error (an unreadable answer counts as
    // the farther end of the scale), or 1 for a right answer and 0 for a wrong one.
    private static double Score(RpmTask task, string gold, string answer)
    {
        if (task.Kind != RpmTaskKind.Rating)
        {
            return string.Equals(gold.Trim(), answer.Trim(), StringComparison.Ordinal) ? 1 : 0;
        }

        PythonFloat.TryParse(gold, out double g);
        RatingScale scale = task.Scale!;
        double p = PythonFloat.TryParse(answer, out double parsed) ? parsed
            : Math.Abs(scale.Minimum - g) > Math.Abs(scale.Maximum - g) ? scale.Minimum : scale.Maximum;
        return Math.Abs(p - g);
    }
}
