namespace Rpm.Evaluation;

/// <summary>What one method did on a data set: its predictions and metrics, what it cost, and what failed.</summary>
public sealed class MethodResult
{
    // Made by EvaluationRunner only; a caller reads it.
    internal MethodResult()
    {
    }

    /// <summary>Gets the method's name.</summary>
    public string Name { get; internal init; } = string.Empty;

    /// <summary>Gets what the method does.</summary>
    public string Description { get; internal init; } = string.Empty;

    /// <summary>Gets a value indicating whether the method used the chat model.</summary>
    public bool UsesChatModel { get; internal init; }

    /// <summary>Gets the predictions, one per query, in LaMP's outputs format (a failed query has an empty answer).</summary>
    public LampOutputs Predictions { get; internal init; } = null!;

    /// <summary>Gets the metrics of the predictions.</summary>
    public MetricSet Metrics { get; internal init; } = null!;

    /// <summary>Gets the cost of preparing every user (RPM's build, PAG's summary).</summary>
    public UsageTotals BuildUsage { get; internal init; } = UsageTotals.Zero;

    /// <summary>Gets the cost of answering every query.</summary>
    public UsageTotals QueryUsage { get; internal init; } = UsageTotals.Zero;

    /// <summary>Gets the number of users prepared.</summary>
    public int Users { get; internal init; }

    /// <summary>Gets the number of queries answered (failed ones included).</summary>
    public int Queries { get; internal init; }

    /// <summary>Gets the number of queries without an answer because a call failed (their answer is empty and scored as wrong).</summary>
    public int FailedQueries { get; internal init; }

    /// <summary>Gets the builds and queries that failed.</summary>
    public IReadOnlyList<MethodFailure> Failures { get; internal init; } = [];

    /// <summary>Gets the first queries with their rationale and examples.</summary>
    internal IReadOnlyList<QueryExplanation> Explanations { get; init; } = [];

    /// <summary>
    /// Gets every metric of <see cref="Metrics"/> with its number of queries and a seeded bootstrap confidence interval
    /// (<see cref="MetricBootstrap"/>); empty when the run's <see cref="EvaluationRunnerOptions.BootstrapResamples"/> is 0.
    /// </summary>
    public IReadOnlyDictionary<string, ConfidenceInterval> Intervals { get; internal init; } = new Dictionary<string, ConfidenceInterval>();

    /// <summary>
    /// Gets what the method built for the first users whose queries are explained (RPM's factors with their statistics
    /// and its reasoning paths), at most <see cref="EvaluationRunnerOptions.ExplainedUsers"/>; empty for methods that build no <see cref="UserModel"/>.
    /// </summary>
    public IReadOnlyList<UserModel> UserModels { get; internal init; } = [];

    /// <summary>
    /// Gets how the method's parameters were chosen by cross-validation over people (the history vote's K and
    /// shrinkage, per fold, with each fold's score), or <see langword="null"/> for methods without tuned parameters.
    /// </summary>
    internal CrossValidation? Tuning { get; init; }

    /// <summary>
    /// Gets, for a method that builds a <see cref="UserModel"/> per user (RPM and its ablations), every built user's
    /// <see cref="UserModel.Diagnostics"/> summed: the answers repaired and the rules that stood in for the model's
    /// judgment over the whole run; <see langword="null"/> for a method that built no model. metrics.json's
    /// <c>nonPaperPaths</c> has the same counts with their shares (of users, features and history items).
    /// </summary>
    /// <remarks><see cref="Rpm.BuildDiagnostics.FactorsFromSuggestedCategories"/> is set when it was for any user; metrics.json counts those users.</remarks>
    public BuildDiagnostics? BuildDiagnostics { get; internal init; }

    /// <summary>Gets the totals of where the method's builds did not follow the paper, or <see langword="null"/> for a method that built no model.</summary>
    internal BuildTotals? NonPaperPaths { get; init; }

    /// <summary>Gets the total usage (build and queries).</summary>
    public UsageTotals TotalUsage => BuildUsage + QueryUsage;

    /// <summary>Gets the mean build usage per user, as (calls, input tokens, output tokens).</summary>
    internal (double Calls, double InputTokens, double OutputTokens) BuildPerUser => Per(BuildUsage, Users);

    /// <summary>Gets the mean usage per query.</summary>
    internal (double Calls, double InputTokens, double OutputTokens) PerQuery => Per(QueryUsage, Queries);

    /// <summary>Computes the mean build cost per user.</summary>
    /// <param name="prices">The prices.</param>
    /// <returns>The cost.</returns>
    internal decimal BuildCostPerUser(TokenPrices prices) => Users == 0 ? 0 : BuildUsage.Cost(prices) / Users;

    /// <summary>Computes the mean cost per query.</summary>
    /// <param name="prices">The prices.</param>
    /// <returns>The cost.</returns>
    internal decimal CostPerQuery(TokenPrices prices) => Queries == 0 ? 0 : QueryUsage.Cost(prices) / Queries;

    private static (double, double, double) Per(UsageTotals usage, int count) =>
        count == 0 ? (0, 0, 0) : ((double)usage.Calls / count, (double)usage.InputTokens / count, (double)usage.OutputTokens / count);
}
