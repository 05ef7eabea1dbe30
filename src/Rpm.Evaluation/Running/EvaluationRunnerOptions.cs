using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Rpm.Evaluation;

/// <summary>Options of the <see cref="EvaluationRunner"/>.</summary>
public sealed class EvaluationRunnerOptions
{
    /// <summary>Gets or sets how many users are evaluated at once (each runs its methods in turn). Default 4.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>Gets or sets K for every retrieving method. Default 3, as in the paper.</summary>
    public int RetrievalCount { get; set; } = 3;

    /// <summary>
    /// Gets or sets how many history items share one call of RPM's per-item build stages (features and reasoning paths).
    /// Default 1, the paper's setting (2N + 1 calls per user); 10 makes about 2N / 10 + 1. Opt-in: batching changes the
    /// prompts, so compare methods at one setting.
    /// </summary>
    public int BatchSize { get; set; } = 1;

    /// <summary>
    /// Gets or sets a value indicating whether each distinct text is embedded once per run: a cache in front of the
    /// embedding generator (Microsoft.Extensions.AI's <c>UseDistributedCache</c>), shared by every method and pass, keyed by
    /// the text and the generator. Default <see langword="true"/>. The embeddings are the same either way.
    /// </summary>
    public bool CacheEmbeddings { get; set; } = true;

    /// <summary>
    /// Gets or sets the cache of embeddings: <see langword="null"/> (default) for one in memory per run, or a persistent
    /// <see cref="Microsoft.Extensions.Caching.Distributed.IDistributedCache"/> to keep them across runs (worth it for a
    /// paid embedding endpoint). Used when <see cref="CacheEmbeddings"/> is set.
    /// </summary>
    public Microsoft.Extensions.Caching.Distributed.IDistributedCache? EmbeddingCache { get; set; }

    /// <summary>Gets or sets the model's name: part of every cache key, and shown in reports.</summary>
    public string ModelId { get; set; } = "unknown-model";

    /// <summary>Gets or sets the answer cache file; <see langword="null"/> for no cache (every run pays again).</summary>
    public string? CachePath { get; set; }

    /// <summary>Gets or sets how the answer cache at <see cref="CachePath"/> is opened (tests open one that fills up, as a full disk does).</summary>
    internal Func<string, CancellationToken, Task<SqliteResponseStore>> OpenAnswerCache { get; set; } = (path, ct) => SqliteResponseStore.OpenAsync(path, ct);

    /// <summary>
    /// Gets or sets the prices used for costs, or <see langword="null"/> when they are not known (a local model, an
    /// endpoint whose prices were not given): the reports then count calls and tokens and say the cost is unknown rather
    /// than price them at some other model's rates. Default GPT-4o-mini's, the paper's backbone.
    /// </summary>
    public TokenPrices? Prices { get; set; } = TokenPrices.Gpt4oMini;

    /// <summary>
    /// Gets or sets the tokenizer that counts tokens the endpoint does not report, and cuts long inputs. Default:
    /// o200k_base (GPT-4o's), whose counts are estimates for other models.
    /// </summary>
    public Tokenizer? Tokenizer { get; set; } = EvaluationTokenizer.O200kBase;

    /// <summary>Gets or sets chat options for every call (e.g. temperature 0); the model id is set from <see cref="ModelId"/> by the caller.</summary>
    public ChatOptions? ChatOptions { get; set; }

    /// <summary>Gets or sets a value indicating whether structured answers are requested with a JSON schema (default) rather than JSON mode with the schema in the prompt.</summary>
    public bool UseJsonSchemaResponseFormat { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the endpoint is asked to enforce schemas strictly (OpenAI's strict mode). Default <see langword="true"/>; off for servers that reject it.</summary>
    public bool UseStrictJsonSchema { get; set; } = true;

    /// <summary>Gets or sets how many queries per method keep their rationale and examples for the report. Default 5.</summary>
    public int ExplainedQueries { get; set; } = 5;

    /// <summary>Gets or sets for how many users (those of the first explained queries) the report shows what a method built, e.g. RPM's factors. Default 3.</summary>
    public int ExplainedUsers { get; set; } = 3;

    /// <summary>Gets or sets the number of bootstrap resamples behind each confidence interval and paired comparison: 0 (none) or 100 to 100,000. Default <see cref="MetricBootstrap.DefaultResamples"/>.</summary>
    public int BootstrapResamples { get; set; } = MetricBootstrap.DefaultResamples;

    /// <summary>Gets or sets the seed of the bootstrap, so that a report's intervals are the same on every run. Default <see cref="MetricBootstrap.DefaultSeed"/>.</summary>
    public int BootstrapSeed { get; set; } = MetricBootstrap.DefaultSeed;

    /// <summary>Gets or sets the reason given for skipping model methods when no chat client is passed.</summary>
    public string ChatModelUnavailableReason { get; set; } = "no chat model endpoint was given.";

    /// <summary>Gets or sets the clock for elapsed time. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">An option is invalid (each is named).</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (MaxConcurrency is < 1 or > 256)
        {
            errors.Add($"{nameof(MaxConcurrency)} must be between 1 and 256 (was {MaxConcurrency}).");
        }

        if (BatchSize is < 1 or > 50)
        {
            errors.Add($"{nameof(BatchSize)} must be between 1 and 50 (was {BatchSize}).");
        }

        if (RetrievalCount is < 1 or > 100)
        {
            errors.Add($"{nameof(RetrievalCount)} must be between 1 and 100 (was {RetrievalCount}).");
        }

        if (string.IsNullOrWhiteSpace(ModelId))
        {
            errors.Add($"{nameof(ModelId)} must not be blank.");
        }

        if (Prices is not null && (Prices.InputPerMillion < 0 || Prices.OutputPerMillion < 0))
        {
            errors.Add($"{nameof(Prices)} must not be negative (null when they are not known).");
        }

        if (ExplainedUsers < 0)
        {
            errors.Add($"{nameof(ExplainedUsers)} must not be negative.");
        }

        if (BootstrapResamples is not 0 and (< 100 or > 100_000))
        {
            errors.Add($"{nameof(BootstrapResamples)} must be 0 (no intervals) or between 100 and 100000 (was {BootstrapResamples}).");
        }

        if (ExplainedQueries < 0)
        {
            errors.Add($"{nameof(ExplainedQueries)} must not be negative.");
        }

        if (TimeProvider is null)
        {
            errors.Add($"{nameof(TimeProvider)} must not be null.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid EvaluationRunnerOptions: " + string.Join(" ", errors));
        }
    }
}
