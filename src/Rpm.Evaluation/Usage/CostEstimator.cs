using System.Globalization;
using Microsoft.ML.Tokenizers;

namespace Rpm.Evaluation;

/// <summary>
/// Estimates the calls, tokens and cost of running methods on a data set without calling any model (offline, in
/// seconds). Baseline prompts are rendered exactly as they will be sent and counted with the tokenizer (dense RAG's
/// examples are approximated by BM25's); RPM's prompts contain the model's own earlier answers, so they are sized from
/// the data's token counts and <see cref="EstimateAssumptions"/>. Output tokens are assumptions. Retries of invalid
/// answers are not included.
/// </summary>
internal sealed class CostEstimator
{
    private readonly Tokenizer _tokenizer;
    private readonly EstimateAssumptions _assumptions;

    /// <summary>Initializes a new instance of the <see cref="CostEstimator"/> class.</summary>
    /// <param name="tokenizer">The tokenizer; <see langword="null"/> for o200k_base.</param>
    /// <param name="assumptions">The assumptions; <see langword="null"/> for the defaults.</param>
    public CostEstimator(Tokenizer? tokenizer = null, EstimateAssumptions? assumptions = null)
    {
        _tokenizer = tokenizer ?? EvaluationTokenizer.O200kBase;
        _assumptions = assumptions ?? new EstimateAssumptions();
    }

    /// <summary>Estimates each method's calls and tokens.</summary>
    /// <param name="dataset">The data set.</param>
    /// <param name="methods">The methods (built-in names are estimated; others are reported as unknown).</param>
    /// <param name="retrievalCount">K.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>One estimate per method, in order.</returns>
    public Task<IReadOnlyList<MethodEstimate>> EstimateAsync(EvaluationDataset dataset, IReadOnlyList<IEvaluationMethod> methods, int retrievalCount = 3, CancellationToken cancellationToken = default) =>
        EstimateAsync(dataset, methods, retrievalCount, batchSize: 1, cancellationToken);

    /// <summary>Estimates each method's calls and tokens, with RPM's per-item build stages batched (<see cref="EvaluationRunnerOptions.BatchSize"/>).</summary>
    /// <param name="dataset">The data set.</param>
    /// <param name="methods">The methods (built-in names are estimated; others are reported as unknown).</param>
    /// <param name="retrievalCount">K.</param>
    /// <param name="batchSize">History items per call of RPM's feature and reasoning stages: 1 (the paper's) to 50.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>One estimate per method, in order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="retrievalCount"/> or <paramref name="batchSize"/> is out of range.</exception>
    public Task<IReadOnlyList<MethodEstimate>> EstimateAsync(EvaluationDataset dataset, IReadOnlyList<IEvaluationMethod> methods, int retrievalCount, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, 50);

        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(methods);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(retrievalCount);
        var context = new MethodContext { Task = dataset.Task, RetrievalCount = retrievalCount, Tokenizer = _tokenizer, BatchSize = batchSize };
        var results = new List<MethodEstimate>();
        foreach (IEvaluationMethod method in methods)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results.Add(Estimate(dataset, method, context));
        }

        return Task.FromResult<IReadOnlyList<MethodEstimate>>(results);
    }

    private MethodEstimate Estimate(EvaluationDataset dataset, IEvaluationMethod method, MethodContext context)
    {
        int users = dataset.Users.Count, queries = dataset.QueryCount;
        long answerOut = _assumptions.AnswerTokens + (dataset.Task.Kind == RpmTaskKind.Generation ? MeanGoldTokens(dataset) : 0);
        UsageTotals build = UsageTotals.Zero, query = UsageTotals.Zero, shared = UsageTotals.Zero;
        string note;
        switch (method)
        {
            case ZeroShotMethod z:
                query = Sum(dataset, (u, q) => Call(BaselinePrompts.Answer(context, q, z.ChainOfThought, null, null), answerOut + (z.ChainOfThought ? _assumptions.ReasoningTokens : 0)));
                note = "prompts rendered and counted; output assumed";
                break;
            case RagMethod r:
                var indexes = dataset.Users.ToDictionary(u => u, u => new Bm25Index(u.History.Select(h => h.Input)));
                query = Sum(dataset, (u, q) =>
                {
                    HistoryItem[] examples = [.. indexes[u].Search(q.Content, context.RetrievalCount).Select(x => u.History[x.Index])];
                    return Call(BaselinePrompts.Answer(context, q, r.ChainOfThought, examples, null), answerOut + (r.ChainOfThought ? _assumptions.ReasoningTokens : 0));
                });
                note = r.Retriever == RagRetriever.Bm25 ? "prompts rendered and counted; output assumed" : "prompts rendered with BM25's examples in place of dense ones; output assumed";
                break;
            case PagMethod p:
                build = dataset.Users.Select(u => Call(BaselinePrompts.Summary(context, u.History, p.MaxHistoryTokens), _assumptions.SummaryTokens)).Aggregate(UsageTotals.Zero, (a, b) => a + b);
                string summary = string.Join(' ', Enumerable.Repeat("word", _assumptions.SummaryTokens));
                query = Sum(dataset, (u, q) => Call(BaselinePrompts.Answer(context, q, p.ChainOfThought, null, summary), answerOut + (p.ChainOfThought ? _assumptions.ReasoningTokens : 0)));
                note = "summary and answer prompts rendered (summary length assumed); output assumed";
                break;
            case RpmMethod or RpmFallbackMethod when method.CheckApplicable(dataset) is null:
                build = dataset.Users.Select(u => RpmBuild(u, dataset.Task.Kind, context.BatchSize)).Aggregate(UsageTotals.Zero, (a, b) => a + b);
                query = method is RpmMethod ? Sum(dataset, (u, q) => RpmQuery(u, q, context.RetrievalCount)) : UsageTotals.Zero;
                shared = method is RpmMethod ? Sum(dataset, (u, q) => RpmQueryFeatures(q)) : UsageTotals.Zero;
                note = method is RpmMethod
                    ? $"{RpmBuildCalls(dataset.Task.Kind, context.BatchSize)} build calls and 2 per query; sized from the data's tokens and the assumptions"
                    : $"{RpmBuildCalls(dataset.Task.Kind, context.BatchSize)} build calls (shared with rpm through the cache), none per query; sized from the data's tokens and the assumptions";
                break;
            case RpmAblationMethod a when method.CheckApplicable(dataset) is null:
                build = dataset.Users.Select(u => RpmBuild(u, dataset.Task.Kind, context.BatchSize)).Aggregate(UsageTotals.Zero, (x, y) => x + y);
                query = Sum(dataset, (u, q) => RpmAblationQuery(u, q, context.RetrievalCount, a.Arm));
                shared = Sum(dataset, (u, q) => RpmQueryFeatures(q));
                note = $"{RpmBuildCalls(dataset.Task.Kind, context.BatchSize)} build calls (shared with rpm through the cache) and 2 per query (the first, stage 5, is rpm's own call and also shared); sized from the data's tokens and the assumptions";
                break;
            case FermiMethod f when method.CheckApplicable(dataset) is null:
                build = dataset.Users.Select(u => FermiBuild(context, u, f.Options, answerOut)).Aggregate(UsageTotals.Zero, (x, y) => x + y);
                query = Sum(dataset, (u, q) => Call(FermiPrompts.Answer(context, q.Input, q.Options, FermiPlaceholder, f.Options.ChainOfThought), answerOut + (f.Options.ChainOfThought ? _assumptions.ReasoningTokens : 0)));
                note = string.Create(
                    CultureInfo.InvariantCulture,
                    $"T × (1 + P × min(S, N)) build calls (T {f.Options.Iterations}, P {f.Options.PromptsPerIteration}, S {f.Options.ScoringItems}) and 1 per query; prompts rendered with prompts of {_assumptions.FermiPromptTokens} tokens and every mis-aligned slot filled; output assumed");
                break;
            case HistoryVoteMethod:
            case UserPriorMethod:
            case RpmFallbackMethod:
            case RpmMethod:
                note = method.CheckApplicable(dataset) ?? "no model calls";
                break;
            default:
                note = "not a built-in method: not estimated";
                break;
        }

        if (method.CheckApplicable(dataset) is string reason)
        {
            note = "not applicable: " + reason;
            build = query = shared = UsageTotals.Zero;
        }

        return new MethodEstimate(method.Name, build, query, users, queries, note) { SharedQuery = shared };
    }

    private string FermiPlaceholder => string.Join(' ', Enumerable.Repeat("word", _assumptions.FermiPromptTokens));

    // Fermi's build, call by call: T optimizer prompts, each with the memory as full as it can be by then (every slot of
    // mis-aligned answers filled), and P × S scoring prompts per iteration; the prompts the model writes are placeholders.
    private UsageTotals FermiBuild(MethodContext context, EvaluationUser user, FermiOptions options, long answerOut)
    {
        IReadOnlyList<HistoryItem> items = options.SelectScoringItems(user.History);
        if (items.Count == 0)
        {
            return UsageTotals.Zero;
        }

        var placeholder = new FermiCandidate(FermiPlaceholder, 1, [.. items.Select(i => i.Output)], [.. items.Select(_ => 0.0)]);
        long scoringOut = answerOut + (options.ChainOfThought ? _assumptions.ReasoningTokens : 0);
        UsageTotals total = UsageTotals.Zero;
        for (int iteration = 1; iteration <= options.Iterations; iteration++)
        {
            int held = Math.Min(options.MemorySize, (iteration - 1) * options.PromptsPerIteration);
            total += Call(FermiPrompts.Optimize(context, items, [.. Enumerable.Repeat(placeholder, held)], options), 10 + ((long)options.PromptsPerIteration * _assumptions.FermiPromptTokens));
            UsageTotals scoring = items.Select(i => Call(FermiPrompts.Answer(context, i.Input, i.Options, FermiPlaceholder, options.ChainOfThought), scoringOut)).Aggregate(UsageTotals.Zero, (a, b) => a + b);
            for (int p = 0; p < options.PromptsPerIteration; p++)
            {
                total += scoring;
            }
        }

        return total;
    }

    // RPM's stage 5: the query's content, the factors with statistics; features out. Sent alike by rpm and its ablations.
    private UsageTotals RpmQueryFeatures(EvaluationQuery query)
    {
        EstimateAssumptions a = _assumptions;
        long statistics = a.FactorsPerUser * (long)a.TokensPerFactorStatistics;
        return new UsageTotals(1, 0, a.RpmInstructionTokens + Count(query.Input) + statistics + 20, 10 + (a.FeaturesPerItem * a.TokensPerFeature), 0);
    }

    private UsageTotals RpmAblationQuery(EvaluationUser user, EvaluationQuery query, int k, RpmAblation arm)
    {
        if (arm == RpmAblation.QueryKey)
        {
            return RpmQuery(user, query, k);
        }

        EstimateAssumptions a = _assumptions;
        long featureOut = 10 + (a.FeaturesPerItem * a.TokensPerFeature);
        long statistics = a.FactorsPerUser * (long)a.TokensPerFactorStatistics;
        double meanItem = user.History.Count == 0 ? 0 : user.History.Average(h => Count(h.Input) + Count(h.Output));
        long examples = arm == RpmAblation.NoExamples ? 0 : (long)(Math.Min(k, user.History.Count) * (meanItem + 15));
        long input = a.RpmInstructionTokens + Count(query.Input) + featureOut + statistics + examples + 20;
        long output = a.AnswerTokens + (arm == RpmAblation.PairsCot ? a.ReasoningTokens : 0);
        return RpmQueryFeatures(query) + new UsageTotals(1, 0, input, output, 0);
    }

    // Generation tasks add stage 3's influence judgments, RpmOptions.InfluenceJudgmentBatchSize items a call.
    private static string RpmBuildCalls(RpmTaskKind kind, int batchSize) =>
        (batchSize == 1 ? "2N + 1" : $"2⌈N/{batchSize}⌉ + 1 (batched)") + (kind == RpmTaskKind.Generation ? $" + ⌈N/{JudgmentBatchSize}⌉ (influence judgments)" : string.Empty);

    private static int JudgmentBatchSize { get; } = new RpmOptions().InfluenceJudgmentBatchSize;

    private UsageTotals RpmBuild(EvaluationUser user, RpmTaskKind kind, int batchSize)
    {
        EstimateAssumptions a = _assumptions;
        int n = user.History.Count;
        long featureOut = 10 + (a.FeaturesPerItem * a.TokensPerFeature);
        long statistics = a.FactorsPerUser * (long)a.TokensPerFactorStatistics;
        long input = 0, output = 0;
        foreach (HistoryItem item in user.History)
        {
            long itemTokens = Count(item.Input) + Count(item.Output);
            input += itemTokens + 20;                                                                   // stage 1's item
            input += itemTokens + featureOut + 20;                                                      // stage 4's item
            output += featureOut + a.ReasoningPathTokens + 15;
        }

        // One copy of the instructions per call of stages 1 and 4, and of the user's statistics per call of stage 4:
        // batching shares them among the items of a call.
        int perItemCalls = (n + batchSize - 1) / batchSize;
        input += perItemCalls * ((2L * a.RpmInstructionTokens) + statistics);

        long distinct = (long)Math.Ceiling(n * a.FeaturesPerItem * a.DistinctFeatureShare);
        input += a.RpmInstructionTokens + (distinct * (a.TokensPerFeature + 15));                       // stage 2
        output += (a.FactorsPerUser * 30) + (distinct * 6);
        int calls = (2 * perItemCalls) + 1;
        if (kind == RpmTaskKind.Generation)
        {
            // Each judgment call repeats the instructions once and carries every item's features and the user's text.
            int judgmentCalls = (n + JudgmentBatchSize - 1) / JudgmentBatchSize;
            calls += judgmentCalls;
            input += (judgmentCalls * a.RpmInstructionTokens) + user.History.Sum(h => Count(h.Output) + (a.FeaturesPerItem * a.TokensPerFeature) + 20L);
            output += user.History.Count * ((a.FeaturesPerItem * 15L) + 10);
        }

        return new UsageTotals(calls, 0, input, output, 0);
    }

    private UsageTotals RpmQuery(EvaluationUser user, EvaluationQuery query, int k)
    {
        EstimateAssumptions a = _assumptions;
        long featureOut = 10 + (a.FeaturesPerItem * a.TokensPerFeature);
        long statistics = a.FactorsPerUser * (long)a.TokensPerFactorStatistics;
        double meanItem = user.History.Count == 0 ? 0 : user.History.Average(h => Count(h.Input) + Count(h.Output));
        long queryTokens = Count(query.Input);
        long examples = (long)(Math.Min(k, user.History.Count) * (meanItem + featureOut + a.ReasoningPathTokens + 15));
        long input = (a.RpmInstructionTokens + queryTokens + statistics + 20) + (a.RpmInstructionTokens + queryTokens + featureOut + statistics + examples + 20);
        long output = featureOut + a.RationaleTokens + _assumptions.AnswerTokens;
        return new UsageTotals(2, 0, input, output, 0);
    }

    private UsageTotals Call(IEnumerable<Microsoft.Extensions.AI.ChatMessage> prompt, long outputTokens) =>
        new(1, 0, MeteringChatClient.CountInputTokens(_tokenizer, prompt), outputTokens, 0);

    private static UsageTotals Sum(EvaluationDataset dataset, Func<EvaluationUser, EvaluationQuery, UsageTotals> perQuery) =>
        dataset.Users.SelectMany(u => u.Queries.Select(q => perQuery(u, q))).Aggregate(UsageTotals.Zero, (a, b) => a + b);

    private long MeanGoldTokens(EvaluationDataset dataset)
    {
        var golds = dataset.Users.SelectMany(u => u.Queries).Select(q => Count(q.Gold)).ToList();
        return golds.Count == 0 ? 0 : (long)Math.Round(golds.Average());
    }

    private int Count(string text) => _tokenizer.CountTokens(text, considerNormalization: false);
}
