using BenchmarkDotNet.Attributes;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rpm.Benchmarks.Turns;

namespace Rpm.Benchmarks;

/// <summary>
/// The local cost that RPM adds to one warm chat turn, by store and history size. The inner model takes 50 ms per
/// application request (and per stage-7 answer of <see cref="RpmPipeline.RespondAsync(string, RpmQuery, CancellationToken)"/>);
/// RPM's own stage-5 feature call is answered at once (0 ms), so each benchmark's time over the baseline (the bare 50 ms
/// call) is RPM's local work: the store read, decoding, the search, the prompt. The user is warm (its model was saved in
/// <see cref="Setup"/>, nothing is built), every turn sends a message never sent before, and the query embedding is a
/// fixed vector (no embedding cost).
/// </summary>
[MemoryDiagnoser]
public class TurnOverheadBenchmarks
{
    private const string UserId = "turnbench";
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(50);
    private ServiceProvider _services = null!;
    private TurnModel _model = null!;
    private IChatClient _queryFeatures = null!;
    private IChatClient _messageEmbedding = null!;
    private ChatClientAgent _agent = null!;
    private ChatClientAgent _bareAgent = null!;
    private RpmPipeline _pipeline = null!;
    private string? _folder;
    private long _turn;

    [ParamsSource(nameof(Stores))]
    public TurnStore Store { get; set; }

    [Params(100, 1000, 5000)]
    public int HistoryItems { get; set; }

    public static IEnumerable<TurnStore> Stores() => TurnStores.Available(Console.Out);

    [GlobalSetup]
    public void Setup()
    {
        _model = new TurnModel(Latency, SyntheticUsers.Factors[0]);
        var services = new ServiceCollection();
        services.AddEmbeddingGenerator(new FixedEmbeddingGenerator(SyntheticUsers.QueryVector()));
        services.AddChatClient(_model).UseRpm(o =>
        {
            o.Mode = RpmPersonalizationMode.QueryFeatures;
            o.UserIdResolver = (_, _) => UserId;
        });
        services.AddKeyedChatClient("message-embedding", _model).UseRpm(o =>
        {
            o.Mode = RpmPersonalizationMode.MessageEmbedding;
            o.UserIdResolver = (_, _) => UserId;
        });
        _folder = TurnStores.Use(services.AddRpm(), Store);
        _services = services.BuildServiceProvider();
        _pipeline = _services.GetRequiredService<RpmPipeline>();
        _queryFeatures = _services.GetRequiredService<IChatClient>();
        _messageEmbedding = _services.GetRequiredKeyedService<IChatClient>("message-embedding");
        _agent = new ChatClientAgent(_model, new ChatClientAgentOptions
        {
            AIContextProviders = [new RpmContextProvider(_pipeline, new RpmContextProviderOptions { UserId = UserId })],
        });
        _bareAgent = new ChatClientAgent(_model, new ChatClientAgentOptions());

        _pipeline.Store.DeleteAsync(UserId).GetAwaiter().GetResult();
        _pipeline.Store.SaveAsync(SyntheticUsers.Create(UserId, HistoryItems), expectedVersion: null).GetAwaiter().GetResult();

        // One turn each, checked: a benchmark that silently stopped personalizing would measure nothing.
        string instructions = string.Empty;
        _model.OnApplicationRequest = (_, options) => instructions = options?.Instructions ?? string.Empty;
        foreach (IChatClient client in new[] { _queryFeatures, _messageEmbedding })
        {
            client.GetResponseAsync(TurnModel.Message(--_turn)).GetAwaiter().GetResult();
            Check(instructions);
        }

        _agent.RunAsync(TurnModel.Message(--_turn), _agent.CreateSessionAsync().AsTask().GetAwaiter().GetResult()).GetAwaiter().GetResult();
        Check(instructions);
        _model.OnApplicationRequest = null;
        _turn = 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (Store == TurnStore.PostgreSql)
        {
            _pipeline.Store.DeleteAsync(UserId).GetAwaiter().GetResult();
        }

        _services.Dispose();
        TurnStores.Clean(_folder);
    }

    /// <summary>The floor: the bare inner model's 50 ms call, no RPM.</summary>
    [Benchmark(Baseline = true)]
    public Task<ChatResponse> BareModelCall() => _model.GetResponseAsync(NextMessage());

    /// <summary>A <c>UseRpm()</c> turn in <see cref="RpmPersonalizationMode.MessageEmbedding"/> mode (no feature call).</summary>
    [Benchmark]
    public Task<ChatResponse> UseRpmMessageEmbedding() => _messageEmbedding.GetResponseAsync(NextMessage());

    /// <summary>A <c>UseRpm()</c> turn in <see cref="RpmPersonalizationMode.QueryFeatures"/> mode (a feature call of 0 ms first).</summary>
    [Benchmark]
    public Task<ChatResponse> UseRpmQueryFeatures() => _queryFeatures.GetResponseAsync(NextMessage());

    /// <summary>An Agent Framework run with <see cref="RpmContextProvider"/> (query features), a new session each run.</summary>
    [Benchmark]
    public async Task<AgentResponse> AgentRunWithRpm() =>
        await _agent.RunAsync(NextMessage(), await _agent.CreateSessionAsync().ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>The same agent run without RPM: what the Agent Framework itself adds to the 50 ms call.</summary>
    [Benchmark]
    public async Task<AgentResponse> AgentRunWithoutRpm() =>
        await _bareAgent.RunAsync(NextMessage(), await _bareAgent.CreateSessionAsync().ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary><see cref="RpmPipeline.RespondAsync(string, RpmQuery, CancellationToken)"/>: stage 5 (0 ms), retrieval, stage 7 (50 ms).</summary>
    [Benchmark]
    public Task<RpmResponse> RespondAsync() => _pipeline.RespondAsync(UserId, new RpmQuery(NextMessage()));

    private string NextMessage() => TurnModel.Message(Interlocked.Increment(ref _turn));

    private static void Check(string instructions)
    {
        if (!instructions.Contains(SyntheticUsers.Tag(UserId), StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"A warm-up turn was not personalized with the saved model (instructions: '{instructions}').");
        }
    }
}
