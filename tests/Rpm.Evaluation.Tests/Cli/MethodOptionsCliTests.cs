using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Rpm.Cli;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Cli;

/// <summary>The ablation arms and Fermi through rpm estimate and rpm eval.</summary>
public sealed partial class MethodOptionsCliTests
{
    private static CliServices Offline() => new() { Environment = _ => null };

    private static CliServices WithFake(EvalChatClient chat) => new()
    {
        Environment = _ => null,
        Probe = (_, _) => Task.FromResult<string?>(null),
        CreateChatClient = (_, _) => new NonDisposing(chat),
        CreateEmbeddingGenerator = _ => new HashingEmbeddingGenerator(),
    };

    private static async Task<(int Code, string Output, string Error)> Run(CliServices services, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await RpmCli.RunAsync(args, output, error, services);
        return (code, output.ToString(), error.ToString());
    }

    private static long TotalCalls(string output) =>
        long.Parse(TotalRegex().Match(output).Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Estimate_counts_rpms_build_and_its_stage_5_call_once_for_rpm_and_its_ablations()
    {
        var (code, output, _) = await Run(Offline(), "estimate", "--data", TestFiles.MovieLensTags, "--users", "2", "--methods", "rpm,rpm-no-examples,rpm-pairs,rpm-query-key");

        Assert.Equal(0, code);
        EvaluationDataset data = (await EvaluationDataLoader.LoadAsync(TestFiles.MovieLensTags)).TakePeople(2);
        int build = data.Users.Sum(u => (2 * u.History.Count) + 1);
        Assert.Contains($"| rpm-pairs | {build:N0} |", output, StringComparison.Ordinal);
        Assert.Contains("rpm and rpm-no-examples and rpm-pairs and rpm-query-key share one build; the total counts it once.", output, StringComparison.Ordinal);
        Assert.Contains("send the same stage-5 call per query; the total counts it once.", output, StringComparison.Ordinal);
        Assert.Equal(build + data.QueryCount + (4 * data.QueryCount), TotalCalls(output));
    }

    [Fact]
    public async Task Batching_is_reachable_from_rpm_estimate_and_rpm_eval_and_costs_what_it_says()
    {
        var (code, output, _) = await Run(Offline(), "estimate", "--data", TestFiles.MovieLensTags, "--users", "2", "--methods", "rpm", "--batch-size", "10");
        EvaluationDataset data = (await EvaluationDataLoader.LoadAsync(TestFiles.MovieLensTags)).TakePeople(2);
        int build = data.Users.Sum(u => (2 * ((u.History.Count + 9) / 10)) + 1);

        Assert.Equal(0, code);
        Assert.Contains($"| rpm | {build:N0} |", output, StringComparison.Ordinal);

        var chat = new EvalChatClient { Usage = null };
        string folder = Directory.CreateTempSubdirectory("rpm-batch-").FullName;
        var (evalCode, _, evalError) = await Run(WithFake(chat), "eval", "--data", TestFiles.MovieLensTags, "--users", "2", "--methods", "rpm", "--batch-size", "10", "--out", folder, "--endpoint", "http://localhost:1/v1", "--model", "fake-model");

        Assert.True(evalCode == 0, evalError);
        Assert.Contains("RPM's builds batched 10 history items a call", await File.ReadAllTextAsync(Path.Combine(folder, "report.md")), StringComparison.Ordinal);
        Assert.Contains("\"batchSize\": 10", await File.ReadAllTextAsync(Path.Combine(folder, "metrics.json")), StringComparison.Ordinal);
        Assert.Equal(build + (2 * data.QueryCount), chat.Requests.Count(r => r.SchemaName?.StartsWith("rpm_", StringComparison.Ordinal) == true && r.SchemaName != "rpm_preflight"));
        var (badCode, _, badError) = await Run(Offline(), "estimate", "--data", TestFiles.MovieLensTags, "--batch-size", "0");
        Assert.NotEqual(0, badCode);
        Assert.Contains("--batch-size", badError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Estimate_sizes_fermi_with_the_knobs_given()
    {
        var (code, output, _) = await Run(Offline(), "estimate", "--data", TestFiles.MovieLensTags, "--users", "2", "--methods", "fermi,fermi-cot", "--fermi-iterations", "2", "--fermi-prompts", "1", "--fermi-scoring-items", "3");

        Assert.Equal(0, code);
        EvaluationDataset data = (await EvaluationDataLoader.LoadAsync(TestFiles.MovieLensTags)).TakePeople(2);
        long build = data.Users.Sum(u => 2 * (1 + Math.Min(3, u.History.Count)));
        Assert.Contains($"| fermi | {build:N0} |", output, StringComparison.Ordinal);
        Assert.Contains($"| fermi-cot | {build:N0} |", output, StringComparison.Ordinal);
        Assert.Equal((2 * build) + (2 * data.QueryCount), TotalCalls(output)); // fermi and fermi-cot build apart
    }

    [Fact]
    public async Task Eval_runs_fermi_with_the_knobs_given()
    {
        var chat = new EvalChatClient();
        string outFolder = TestFiles.NewFolder();

        var (code, output, error) = await Run(
            WithFake(chat), "eval", "--data", TestFiles.MovieLensTags, "--users", "1", "--methods", "fermi,history-vote", "--out", outFolder, "--model", "fake-model",
            "--fermi-iterations", "2", "--fermi-prompts", "2", "--fermi-memory", "1", "--fermi-scoring-items", "3");

        Assert.True(code == 0, error + output);
        EvaluationDataset data = (await EvaluationDataLoader.LoadAsync(TestFiles.MovieLensTags)).TakePeople(1);
        Assert.Equal(2 * data.Users.Count, chat.WithSchema("fermi_prompts").Count);
        // Per unit 2 × (1 + 2 × min(3, N)) calls (two units of one person share items, so the endpoint saw fewer: the cache).
        long perUnit = data.Users.Sum(u => new FermiOptions { Iterations = 2, PromptsPerIteration = 2, ScoringItems = 3 }.CallsPerUser(u.History.Count)) / data.Users.Count;
        string row = output.Split('\n').Single(l => l.StartsWith("| fermi |", StringComparison.Ordinal));
        Assert.Contains($"| {data.QueryCount} | 0 | 0 | {perUnit} |", row, StringComparison.Ordinal); // n, invalid, failed, build calls per user
        Assert.All(chat.WithSchema("fermi_prompts"), r => Assert.True(r.Data["memory"]!.AsArray().Count <= 1));
    }

    [Fact]
    public async Task A_fermi_knob_out_of_range_is_refused_by_name()
    {
        var (code, _, error) = await Run(Offline(), "estimate", "--data", TestFiles.MovieLensTags, "--methods", "fermi", "--fermi-iterations", "0");

        Assert.NotEqual(0, code);
        Assert.Contains("--fermi-iterations must be a whole number from 1 to 100", error, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"Total: .* for ([0-9,]+) calls")]
    private static partial Regex TotalRegex();

    private sealed class NonDisposing(IChatClient inner) : DelegatingChatClient(inner)
    {
        protected override void Dispose(bool disposing)
        {
        }
    }
}
