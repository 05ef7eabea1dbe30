using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using Rpm.Evaluation;
using Rpm.Tests.Fakes;
using Rpm.Benchmarks;

namespace Rpm.Benchmarks.Cost;

/// <summary>
/// What a user costs in model calls and input tokens, exactly: builds and queries of the bundled MovieLens users run
/// against the tests' deterministic fake chat model, one call at a time (so call order, and so prefix sharing, is fixed),
/// and every prompt is tokenized with the real o200k tokenizer. Counts are exact and stable from run to run; the fake
/// model's answers stand in for a real model's, so the tokens of prompts that carry earlier answers (stage 2's feature
/// lists, stage 4's features) depend on them, and output tokens are not reported.
/// </summary>
public static class CostReport
{
    private const string Paper = "paper (1 item a call)";
    private const string Batched = "batched (10 items a call)";
    private const string BatchApi = "batched 10 + Batch API";
    private static readonly Tokenizer O200k = EvaluationTokenizer.O200kBase;

    private static string Number(double value) => value.ToString("#,0.#", CultureInfo.InvariantCulture);

    private static string Percent(double part, double whole) => whole == 0 ? "-" : (100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    public static async Task<int> RunAsync(string[] args)
    {
        string root = BenchmarkData.RepositoryRoot();
        int? limit = args.Select(a => a.StartsWith("users=", StringComparison.Ordinal) ? int.Parse(a[6..], CultureInfo.InvariantCulture) : (int?)null).FirstOrDefault(v => v is not null);
        string[] sets = ["movielens-ratings", "movielens-tags"];
        (string Name, Action<RpmOptions> Configure)[] modes =
        [
            (Paper, _ => { }),
            (Batched, o => { o.FeatureExtractionBatchSize = 10; o.ReasoningBatchSize = 10; }),
        ];

        Console.WriteLine("Exact input tokens (o200k) per call of RPM, and the share a provider's prefix cache can serve.");
        Console.WriteLine("block: vLLM automatic prefix caching (16-token blocks, no minimum); openai: prefixes of at least 1,024 tokens, in 128-token steps.");
        Console.WriteLine("A query's cache share assumes the user's build prompts are still cached (a query right after a build).");
        Console.WriteLine($"'{BatchApi}' makes the same calls as '{Batched}', sent through OpenAI's Batch API: the build's input at half price; the query stays synchronous.");
        Console.WriteLine();
        Console.WriteLine("| data | mode | users | items | build calls / user | build input tokens / item | block-cacheable | openai-cacheable | block, users with >= 50 items | query calls | query input tokens | query block | query openai | input $ / user (gpt-4o-mini, no cache) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var against = new List<string>();
        foreach (string set in sets)
        {
            EvaluationDataset data = await EvaluationDataLoader.LoadAsync(Path.Combine(root, "samples", "data", set)).ConfigureAwait(false);
            IReadOnlyList<EvaluationUser> users = limit is int n ? [.. data.Users.Take(n)] : data.Users;
            var measured = new Dictionary<string, Totals>(StringComparer.Ordinal);
            foreach (var (name, configure) in modes)
            {
                measured[name] = await MeasureAsync(data.Task, users, configure).ConfigureAwait(false);
                Console.WriteLine(measured[name].Row(set, name));
            }

            // The Batch API changes the price of the same calls, not the calls: derived from the batched run, not run again.
            Totals batchApi = measured[Batched] with { BuildPriceFactor = 0.5m };
            Console.WriteLine(batchApi.Row(set, BatchApi));
            Totals paper = measured[Paper];
            foreach (var (name, totals) in new[] { (Paper, paper), (Batched, measured[Batched]), (BatchApi, batchApi) })
            {
                against.Add($"| {set} | {name} | {Number(totals.CallsPerUser)} | {Percent(totals.CallsPerUser, paper.CallsPerUser)} | " +
                            $"{totals.DollarsPerUser.ToString("0.00000", CultureInfo.InvariantCulture)} | {Percent((double)totals.DollarsPerUser, (double)paper.DollarsPerUser)} | " +
                            $"{totals.BuildDollarsPerUser.ToString("0.00000", CultureInfo.InvariantCulture)} | {Percent((double)totals.BuildDollarsPerUser, (double)paper.BuildDollarsPerUser)} |");
            }
        }

        Console.WriteLine();
        Console.WriteLine("Against the paper's settings (one item a call, synchronous), per user: build calls, input $ of the build and the query, input $ of the build alone.");
        Console.WriteLine();
        Console.WriteLine("| data | mode | build calls / user | of paper | input $ / user | of paper | build input $ / user | of paper |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (string row in against)
        {
            Console.WriteLine(row);
        }

        return 0;
    }

    private static async Task<Totals> MeasureAsync(RpmTask task, IReadOnlyList<EvaluationUser> users, Action<RpmOptions> configure)
    {
        var totals = new Totals { Users = users.Count };
        foreach (EvaluationUser user in users)
        {
            var recorder = new RecordingChatClient(new FakeChatClient());
            var options = new RpmOptions { MaxConcurrency = 1, Tokenizer = O200k };
            configure(options);
            var pipeline = new RpmPipeline(recorder, new HashingEmbeddingGenerator(), options);
            var cache = new PrefixCache();

            UserModel model = await pipeline.BuildUserModelAsync(user.Id, task, user.History).ConfigureAwait(false);
            foreach (IReadOnlyList<int> call in recorder.TakeCalls())
            {
                cache.Add(call);
            }

            var build = (cache.InputTokens, cache.BlockCached, cache.OpenAICached);
            totals.Items += user.History.Count;
            totals.BuildCalls += model.BuildUsage.Calls;
            totals.BuildInput += build.InputTokens;
            totals.BuildBlock += build.BlockCached;
            totals.BuildOpenAI += build.OpenAICached;
            if (user.History.Count >= 50)
            {
                totals.LargeInput += build.InputTokens;
                totals.LargeBlock += build.BlockCached;
            }

            foreach (EvaluationQuery query in user.Queries)
            {
                await pipeline.RespondAsync(model, query.ToRpmQuery()).ConfigureAwait(false);
                foreach (IReadOnlyList<int> call in recorder.TakeCalls())
                {
                    totals.QueryCalls++;
                    long before = cache.InputTokens, block = cache.BlockCached, openAI = cache.OpenAICached;
                    cache.Add(call);
                    totals.QueryInput += cache.InputTokens - before;
                    totals.QueryBlock += cache.BlockCached - block;
                    totals.QueryOpenAI += cache.OpenAICached - openAI;
                }

                totals.Queries++;
            }
        }

        return totals;
    }

    private sealed record Totals
    {
        /// <summary>What the build's input costs relative to synchronous calls: 0.5 through OpenAI's Batch API.</summary>
        public decimal BuildPriceFactor { get; init; } = 1m;

        public double CallsPerUser => (double)BuildCalls / Users;

        public decimal BuildDollarsPerUser => TokenPrices.Gpt4oMini.Cost(BuildInput, 0) * BuildPriceFactor / Users;

        public decimal DollarsPerUser => BuildDollarsPerUser + (TokenPrices.Gpt4oMini.Cost(QueryInput, 0) / Users);

        public int Users { get; set; }

        public long Items { get; set; }

        public long BuildCalls { get; set; }

        public long BuildInput { get; set; }

        public long BuildBlock { get; set; }

        public long BuildOpenAI { get; set; }

        public long LargeInput { get; set; }

        public long LargeBlock { get; set; }

        public long Queries { get; set; }

        public long QueryCalls { get; set; }

        public long QueryInput { get; set; }

        public long QueryBlock { get; set; }

        public long QueryOpenAI { get; set; }

        public string Row(string set, string mode)
        {
            static string Share(long part, long whole) => whole == 0 ? "-" : (100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + " %";
            decimal dollars = DollarsPerUser;
            return $"| {set} | {mode} | {Users} | {Items} | {Number((double)BuildCalls / Users)} | {Number((double)BuildInput / Items)} | {Share(BuildBlock, BuildInput)} | {Share(BuildOpenAI, BuildInput)} | " +
                   $"{Share(LargeBlock, LargeInput)} | {Number((double)QueryCalls / Queries)} | {Number((double)QueryInput / Queries)} | {Share(QueryBlock, QueryInput)} | {Share(QueryOpenAI, QueryInput)} | " +
                   $"{dollars.ToString("0.00000", CultureInfo.InvariantCulture)} |";
        }
    }

    /// <summary>Records every request's prompt as the token ids of its messages in order (role line, then text), as a chat template lays them out.</summary>
    private sealed class RecordingChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        private readonly List<IReadOnlyList<int>> _calls = [];

        public List<IReadOnlyList<int>> TakeCalls()
        {
            lock (_calls)
            {
                List<IReadOnlyList<int>> calls = [.. _calls];
                _calls.Clear();
                return calls;
            }
        }

        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            List<ChatMessage> list = [.. messages];
            string rendered = string.Concat(list.Select(m => $"<|{m.Role.Value}|>\n{m.Text}\n"));
            lock (_calls)
            {
                _calls.Add(O200k.EncodeToIds(rendered, considerPreTokenization: true, considerNormalization: false));
            }

            return base.GetResponseAsync(list, options, cancellationToken);
        }
    }
}
