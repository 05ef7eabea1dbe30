using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Rpm.Evaluation.Tests.Fakes;
using Rpm.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Reports;

/// <summary>Where the builds of RPM's forms left the paper's path, totalled per method in metrics.json and both reports.</summary>
public sealed class NonPaperPathsTests
{
    [Fact]
    public async Task Rule_assigned_features_rule_formed_factors_an_excluded_item_a_repair_and_an_ungrounded_path_are_totalled_per_method_in_metrics_and_reports()
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationResult result = await new EvaluationRunner(new EvaluationRunnerOptions { ModelId = "fake-model" })
            .RunAsync(data, [.. new[] { "rpm", "rpm-query-key", "history-vote" }.Select(EvaluationMethods.Create)], new DepartingClient(), new HashingEmbeddingGenerator());
        string folder = TestFiles.NewFolder();
        ReportFiles files = await EvaluationReportWriter.WriteFilesAsync(result, folder);

        // Per user, as Rpm.Core counts it: u1's factor answer left out its 3 release features (assigned by rule), its
        // first reasoning answer was repaired and its Heat path stayed ungrounded after the repair; u2's factor answer stayed unusable (factors from rules) and its item k2
        // was stopped by the content filter.
        MethodResult rpm = result.Methods.Single(m => m.Name == "rpm");
        UserModel u1 = rpm.UserModels.Single(u => u.UserId == "u1"), u2 = rpm.UserModels.Single(u => u.UserId == "u2");
        Assert.Equal(3, u1.Diagnostics.FeaturesAssignedByRule);
        Assert.Equal(2, u1.Diagnostics.OutputRepairs);
        Assert.Equal(1, u1.Diagnostics.UngroundedPaths);
        Assert.Contains("The Nostalgia factor", u1.Paths.Single(p => p.Item.Id == "h5").Reasoning, StringComparison.Ordinal);
        Assert.Equal(0, u2.Diagnostics.UngroundedPaths);
        Assert.False(u1.Diagnostics.FactorsFromSuggestedCategories);
        Assert.True(u2.Diagnostics.FactorsFromSuggestedCategories);
        Assert.Equal(1, u2.Diagnostics.ItemsExcluded);
        Assert.Equal(["k1", "k3", "k4"], u2.Paths.Select(p => p.Item.Id));
        int byRule = u1.Diagnostics.FeaturesAssignedByRule + u2.Diagnostics.FeaturesAssignedByRule;
        int repaired = u1.Diagnostics.OutputRepairs + u2.Diagnostics.OutputRepairs;
        Assert.Equal(3, byRule); // u2's rule-formed factors are counted as such, not as features assigned by rule
        Assert.Equal(2, repaired); // u2's factor answer was not repaired: it stayed unusable

        // The public sum.
        Assert.NotNull(rpm.BuildDiagnostics);
        Assert.Equal(byRule, rpm.BuildDiagnostics!.FeaturesAssignedByRule);
        Assert.Equal(1, rpm.BuildDiagnostics.ItemsExcluded);
        Assert.True(rpm.BuildDiagnostics.FactorsFromSuggestedCategories);
        Assert.Null(result.Methods.Single(m => m.Name == "history-vote").BuildDiagnostics);

        // metrics.json: u1 has 10 distinct features in its 5 paths, u2 6 in its 3 (k2's are all in other items).
        using JsonDocument metrics = JsonDocument.Parse(await File.ReadAllTextAsync(files.Metrics));
        JsonElement Method(string name) => metrics.RootElement.GetProperty("methods").EnumerateArray().Single(m => m.GetProperty("name").GetString() == name);
        foreach (string name in new[] { "rpm", "rpm-query-key" })
        {
            JsonElement paths = Method(name).GetProperty("nonPaperPaths");
            Assert.Equal(2, paths.GetProperty("users").GetInt32());
            Assert.Equal(1, paths.GetProperty("usersWithFactorsFromRules").GetInt32());
            Assert.Equal(0.5, paths.GetProperty("usersWithFactorsFromRulesShare").GetDouble());
            Assert.Equal(16, paths.GetProperty("features").GetInt32());
            Assert.Equal(byRule, paths.GetProperty("featuresAssignedByRule").GetInt32());
            Assert.Equal(Math.Round(byRule / 16.0, 6), paths.GetProperty("featuresAssignedByRuleShare").GetDouble());
            Assert.Equal(9, paths.GetProperty("historyItems").GetInt32());
            Assert.Equal(1, paths.GetProperty("itemsExcluded").GetInt32());
            Assert.Equal(0.111111, paths.GetProperty("itemsExcludedShare").GetDouble());
            Assert.Equal(0, paths.GetProperty("judgmentsLeftUnknown").GetInt32());
            Assert.Equal(repaired, paths.GetProperty("answersRepaired").GetInt32());
            Assert.Equal(0, paths.GetProperty("answersReadFromReasoning").GetInt32());
            Assert.Equal(8, paths.GetProperty("reasoningPaths").GetInt32());
            Assert.Equal(1, paths.GetProperty("ungroundedPaths").GetInt32());
            Assert.Equal(0.125, paths.GetProperty("ungroundedPathsShare").GetDouble());
            Assert.Equal(0.875, paths.GetProperty("groundingShare").GetDouble());
            Assert.Equal(3, paths.GetProperty("rationales").GetInt32());
            Assert.Equal(1, paths.GetProperty("ungroundedRationales").GetInt32());
            Assert.Equal(0.333333, paths.GetProperty("ungroundedRationalesShare").GetDouble());
        }

        Assert.False(Method("history-vote").TryGetProperty("nonPaperPaths", out _));

        // The reports: one column for the two methods that built the same models, none for the history vote.
        string byRuleCell = $"{Math.Round(byRule * 100 / 16.0, 1).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)}% ({byRule} of 16)";
        string markdown = await File.ReadAllTextAsync(files.Markdown);
        Assert.Contains("## Where the build did not follow the paper", markdown, StringComparison.Ordinal);
        Assert.Contains("| | rpm, rpm-query-key |", markdown, StringComparison.Ordinal);
        Assert.Contains("| users built | 2 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| factors from rules | 50% (1 of 2) |", markdown, StringComparison.Ordinal);
        Assert.Contains($"| features assigned by rule | {byRuleCell} |", markdown, StringComparison.Ordinal);
        Assert.Contains("| items excluded | 11.1% (1 of 9) |", markdown, StringComparison.Ordinal);
        Assert.Contains($"| answers repaired | {repaired} |", markdown, StringComparison.Ordinal);
        Assert.Contains("| reasoning paths ungrounded | 12.5% (1 of 8) |", markdown, StringComparison.Ordinal);
        Assert.Contains("| rationales ungrounded | 33.3% (1 of 3) |", markdown, StringComparison.Ordinal);
        Assert.Contains("**user u1**: 5 reasoning paths", markdown, StringComparison.Ordinal);
        Assert.Contains("; 4 of 5 reasoning paths grounded (80%), 1 kept ungrounded after the repair.", markdown, StringComparison.Ordinal);
        Assert.Contains("A share or count of 0 is the paper's path.", markdown, StringComparison.Ordinal);
        Assert.Contains("- items excluded: share of the history items left out", markdown, StringComparison.Ordinal);
        string section = markdown[markdown.IndexOf("## Where the build", StringComparison.Ordinal)..];
        Assert.DoesNotContain("history-vote", section[..section.IndexOf("\n- ", StringComparison.Ordinal)], StringComparison.Ordinal);

        string html = await File.ReadAllTextAsync(files.Html);
        Assert.Contains("<section id=\"non-paper\"><h2>Where the build did not follow the paper</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<th>rpm, rpm-query-key</th>", html, StringComparison.Ordinal);
        Assert.Contains("<td>50% (1 of 2)</td>", html, StringComparison.Ordinal);
        Assert.Contains($"<td>{byRuleCell}</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>11.1% (1 of 9)</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>12.5% (1 of 8)</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_clean_build_shows_zeros_and_a_run_without_a_model_building_method_has_no_section()
    {
        EvaluationResult clean = await new EvaluationRunner()
            .RunAsync(SmallData.Tags(), [EvaluationMethods.Create("rpm")], new EvalChatClient(), new HashingEmbeddingGenerator());
        BuildTotals totals = clean.Methods.Single().NonPaperPaths!;
        Assert.True(totals.IsPaperPath);
        Assert.Equal(2, totals.Users);
        Assert.Equal(9, totals.HistoryItems);
        Assert.Equal(0, totals.UngroundedPaths);
        Assert.Equal(1, totals.GroundingShare);
        Assert.Contains("| factors from rules | 0% (0 of 2) |", EvaluationReportWriter.RenderMarkdown(clean), StringComparison.Ordinal);

        EvaluationResult none = await new EvaluationRunner()
            .RunAsync(SmallData.Tags(), [new HistoryVoteMethod(), new UserPriorMethod()], null, new HashingEmbeddingGenerator());
        Assert.DoesNotContain("Where the build did not follow the paper", EvaluationReportWriter.RenderMarkdown(none), StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"non-paper\"", EvaluationReportWriter.RenderHtml(none), StringComparison.Ordinal);
        Assert.DoesNotContain("nonPaperPaths", EvaluationReportWriter.RenderJson(none), StringComparison.Ordinal);
    }

    /// <summary>The harness's fake, with answers that leave the paper's path for chosen users and items.</summary>
    private sealed class DepartingClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var request = new EvalRequest([.. messages], options);
            bool firstAttempt = request.Messages.All(m => m.Role != ChatRole.Assistant);
            string user = request.Messages.First(m => m.Role == ChatRole.User).Text;
            string? text = request.SchemaName switch
            {
                // u2 (the only user with romances): an answer no repair makes usable.
                "rpm_factorlist" when user.Contains("Romance genre", StringComparison.Ordinal) => "This user loves romance.",

                // u1: the answer leaves out the release decades, which the rules then assign.
                "rpm_factorlist" => WithoutReleases(EvalChatClient.Answer(request)),
                "rpm_reasoning" when user.Contains("Notting Hill", StringComparison.Ordinal) => null,
                "rpm_reasoning" when firstAttempt && user.Contains("Alien (1979)", StringComparison.Ordinal) => """{"reasoning": ""}""",

                // u1's Heat: a factor the user does not have, before and after the repair.
                "rpm_reasoning" when user.Contains("Heat (1995)", StringComparison.Ordinal) =>
                    FakeChatClient.Answer(new FakeRequest([.. request.Messages], options, firstAttempt ? 1 : 2), ReasoningMistake.UnknownFactor),

                // The rationale for Gattaca (q1) names a factor the user does not have, before and after the repair.
                "rpm_answer" when user.Contains("Gattaca", StringComparison.Ordinal) =>
                    FakeChatClient.Answer(new FakeRequest([.. request.Messages], options, firstAttempt ? 1 : 2), ReasoningMistake.UnknownFactor),
                _ => EvalChatClient.Answer(request),
            };
            var response = text is null
                ? new ChatResponse(new ChatMessage(ChatRole.Assistant, string.Empty)) { FinishReason = ChatFinishReason.ContentFilter }
                : new ChatResponse(new ChatMessage(ChatRole.Assistant, text));
            response.Usage = new UsageDetails { InputTokenCount = 100, OutputTokenCount = 20 };
            return Task.FromResult(response);
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }

        private static string WithoutReleases(string answer)
        {
            JsonObject json = JsonNode.Parse(answer)!.AsObject();
            foreach (JsonNode? factor in json["factors"]!.AsArray())
            {
                JsonArray features = factor!["features"]!.AsArray();
                foreach (JsonNode? release in features.Where(f => f!.GetValue<string>().EndsWith(" release", StringComparison.Ordinal)).ToList())
                {
                    features.Remove(release);
                }
            }

            return json.ToJsonString();
        }
    }
}
