namespace Rpm.Evaluation;

/// <summary>
/// Where the builds of a method that builds a <see cref="UserModel"/> (RPM and its ablations) did not follow the paper,
/// totalled over the users whose model was built: the per-user <see cref="UserModel.Diagnostics"/> summed, with the
/// shares that make them comparable across runs. A count or share of 0 is the paper's path. Written to
/// <c>metrics.json</c> as each method's <c>nonPaperPaths</c> and shown in the reports.
/// </summary>
/// <param name="Users">The users whose model was built (a failed build is one of the method's failures, not counted here).</param>
/// <param name="UsersWithFactorsFromRules">The users whose factor answer could not be used, so that their factors were formed by rule from the categories suggested in stage 1 (<see cref="BuildDiagnostics.FactorsFromSuggestedCategories"/>).</param>
/// <param name="Features">The distinct features (by name, ignoring case) of each user's reasoning paths, summed over users.</param>
/// <param name="FeaturesAssignedByRule">The features the factor answer left out (or that were not shown to it) and that a rule assigned to a factor (<see cref="BuildDiagnostics.FeaturesAssignedByRule"/>).</param>
/// <param name="HistoryItems">The history items given to the builds.</param>
/// <param name="ItemsExcluded">The history items left out because the model refused them or a content filter stopped them (<see cref="BuildDiagnostics.ItemsExcluded"/>).</param>
/// <param name="JudgmentsLeftUnknown">The influence judgments (generation tasks) the model left out even after the repair turn, kept unknown (<see cref="BuildDiagnostics.MissingJudgments"/>).</param>
/// <param name="AnswersRepaired">The answers that were invalid at first and fixed by the repair turn (<see cref="BuildDiagnostics.OutputRepairs"/>).</param>
/// <param name="AnswersReadFromReasoning">The answers whose text was empty and that were read from the response's reasoning field (<see cref="BuildDiagnostics.AnswersReadFromReasoning"/>).</param>
/// <param name="ReasoningPaths">The reasoning paths of the built models.</param>
/// <param name="UngroundedPaths">
/// The reasoning paths kept ungrounded after the repair turn (<see cref="BuildDiagnostics.UngroundedPaths"/>): the grounding
/// check is our addition to the paper, so this is not a departure from its path but what the paper would have accepted unchecked.
/// </param>
internal sealed record BuildTotals(
    int Users,
    int UsersWithFactorsFromRules,
    int Features,
    int FeaturesAssignedByRule,
    int HistoryItems,
    int ItemsExcluded,
    int JudgmentsLeftUnknown,
    int AnswersRepaired,
    int AnswersReadFromReasoning,
    int ReasoningPaths,
    int UngroundedPaths)
{
    /// <summary>Gets the share of users whose factors were formed by rule (0 when no user was built).</summary>
    public double UsersWithFactorsFromRulesShare => Share(UsersWithFactorsFromRules, Users);

    /// <summary>Gets the share of the features that were assigned by rule (0 when there were none).</summary>
    public double FeaturesAssignedByRuleShare => Share(FeaturesAssignedByRule, Features);

    /// <summary>Gets the share of the history items that were left out (0 when there were none).</summary>
    public double ItemsExcludedShare => Share(ItemsExcluded, HistoryItems);

    /// <summary>Gets the share of the reasoning paths kept ungrounded (0 when there were none).</summary>
    public double UngroundedPathsShare => Share(UngroundedPaths, ReasoningPaths);

    /// <summary>Gets the grounding share: the reasoning paths with no unsupported citation, number or factor name (1 when there were none).</summary>
    public double GroundingShare => 1 - UngroundedPathsShare;

    /// <summary>Gets the rationales (stage 7) the method's answers were checked for: the chat model's answers, not the model-free ones.</summary>
    public int Rationales { get; init; }

    /// <summary>
    /// Gets the rationales kept ungrounded after the repair turn (<see cref="RpmResponse.IsGrounded"/> false): like
    /// <see cref="UngroundedPaths"/>, our addition to the paper, not a departure from its path.
    /// </summary>
    public int UngroundedRationales { get; init; }

    /// <summary>Gets the share of the rationales kept ungrounded (0 when there were none).</summary>
    public double UngroundedRationalesShare => Share(UngroundedRationales, Rationales);

    /// <summary>Gets a value indicating whether every build followed the paper's path (ungrounded paths are not a departure: the paper does not check).</summary>
    public bool IsPaperPath => UsersWithFactorsFromRules == 0 && FeaturesAssignedByRule == 0 && ItemsExcluded == 0
        && JudgmentsLeftUnknown == 0 && AnswersRepaired == 0 && AnswersReadFromReasoning == 0;

    /// <summary>Totals the builds of one method.</summary>
    /// <param name="builds">Per built user: the model and the number of history items given to its build.</param>
    /// <returns>The totals; all 0 for no builds.</returns>
    public static BuildTotals Of(IEnumerable<(UserModel Model, int HistoryItems)> builds)
    {
        ArgumentNullException.ThrowIfNull(builds);
        int users = 0, fromRules = 0, features = 0, byRule = 0, items = 0, excluded = 0, unknown = 0, repaired = 0, fromReasoning = 0, paths = 0, ungrounded = 0;
        foreach ((UserModel model, int historyItems) in builds)
        {
            BuildDiagnostics d = model.Diagnostics;
            users++;
            fromRules += d.FactorsFromSuggestedCategories ? 1 : 0;
            features += model.Paths.SelectMany(p => p.Features).Select(f => f.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count();
            byRule += d.FeaturesAssignedByRule;
            items += historyItems;
            excluded += d.ItemsExcluded;
            unknown += d.MissingJudgments;
            repaired += d.OutputRepairs;
            fromReasoning += d.AnswersReadFromReasoning;
            paths += model.Paths.Count;

            // Counted per path written; a model whose paths were written again (an update with new factors) is capped at its paths.
            ungrounded += Math.Min(d.UngroundedPaths, model.Paths.Count);
        }

        return new BuildTotals(users, fromRules, features, byRule, items, excluded, unknown, repaired, fromReasoning, paths, ungrounded);
    }

    private static double Share(int part, int whole) => whole == 0 ? 0 : (double)part / whole;
}
