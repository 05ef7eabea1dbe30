using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;
using Rpm.Evaluation;
using Rpm.Tests.Fakes;

namespace Rpm.Benchmarks;

/// <summary>
/// Wall time of a build and of a query against a chat model with a fixed latency (50 ms a call, answers from the tests'
/// deterministic fake), each beside its floor measured in the same run: the build's floor is its dependent waves of
/// calls (stage 1's N calls run <see cref="RpmOptions.MaxConcurrency"/> at a time, then factors, then stage 4's N calls)
/// times the latency; a query's floor is its two dependent calls. Embeddings come from a hashing generator that costs
/// almost nothing, so what is left over the floor is the library's own time.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PipelineWallTimeBenchmarks
{
    private const int LatencyMs = 50;
    private const int Concurrency = 4;
    private RpmPipeline _pipeline = null!;
    private List<HistoryItem> _history = [];
    private UserModel _model = null!;
    private RpmQuery _query = null!;
    private RpmTask _task = null!;

    [Params(20, 60)]
    public int HistoryItems { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        EvaluationDataset data = EvaluationDataLoader.LoadAsync(Path.Combine(BenchmarkData.RepositoryRoot(), "samples", "data", "movielens-ratings")).GetAwaiter().GetResult();
        EvaluationUser user = data.Users.First(u => u.History.Count >= HistoryItems);
        _task = data.Task;
        _history = [.. user.History.Take(HistoryItems)];
        _query = user.Queries[0].ToRpmQuery();
        _pipeline = new RpmPipeline(new LatencyChatClient(new FakeChatClient(), TimeSpan.FromMilliseconds(LatencyMs)), new HashingEmbeddingGenerator(), new RpmOptions { MaxConcurrency = Concurrency });
        _model = _pipeline.BuildUserModelAsync(user.Id, _task, _history).GetAwaiter().GetResult();
    }

    /// <summary>The build's floor: ⌈N / concurrency⌉ waves of stage 1, one factor call, ⌈N / concurrency⌉ waves of stage 4.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("build")]
    public async Task BuildFloor()
    {
        int waves = (2 * ((HistoryItems + Concurrency - 1) / Concurrency)) + 1;
        for (int i = 0; i < waves; i++)
        {
            await Task.Delay(LatencyMs).ConfigureAwait(false);
        }
    }

    [Benchmark]
    [BenchmarkCategory("build")]
    public Task<UserModel> Build() => _pipeline.BuildUserModelAsync("bench-user", _task, _history);

    /// <summary>A query's floor: its two dependent model calls.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("query")]
    public async Task QueryFloor()
    {
        await Task.Delay(LatencyMs).ConfigureAwait(false);
        await Task.Delay(LatencyMs).ConfigureAwait(false);
    }

    [Benchmark]
    [BenchmarkCategory("query")]
    public Task<RpmResponse> Query() => _pipeline.RespondAsync(_model, _query);

    /// <summary>A chat model that takes a fixed time per call.</summary>
    private sealed class LatencyChatClient(IChatClient inner, TimeSpan latency) : DelegatingChatClient(inner)
    {
        public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
            return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }
    }
}
