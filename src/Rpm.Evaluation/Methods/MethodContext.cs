using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Rpm.Evaluation;

/// <summary>What a method works with for one user or query: the task, the models and the shared settings.</summary>
public sealed class MethodContext
{
    /// <summary>Gets the task.</summary>
    public required RpmTask Task { get; init; }

    /// <summary>Gets the chat model (counting and caching layers included), or <see langword="null"/> when none is reachable.</summary>
    public IChatClient? ChatClient { get; init; }

    /// <summary>Gets the embedding generator shared by every method, or <see langword="null"/> when none is available.</summary>
    public IEmbeddingGenerator<string, Embedding<float>>? EmbeddingGenerator { get; init; }

    /// <summary>Gets K, the number of examples every retrieving method uses. Default 3.</summary>
    public int RetrievalCount { get; init; } = 3;

    /// <summary>Gets chat options applied to every call (model id, temperature); clone before changing.</summary>
    public ChatOptions? ChatOptions { get; init; }

    /// <summary>Gets the tokenizer used to cut long inputs, or <see langword="null"/> for a four-characters-a-token estimate.</summary>
    public Tokenizer? Tokenizer { get; init; }

    /// <summary>Gets the longest input, in tokens, placed in a prompt (longer ones are cut). Default 1,024, as RPM's.</summary>
    public int MaxInputTokens { get; init; } = 1024;

    /// <summary>
    /// Gets a value indicating whether structured answers are requested with a JSON schema (default). When
    /// <see langword="false"/>, JSON mode is requested and the schema is written into the prompt, for servers that reject schemas.
    /// </summary>
    public bool UseJsonSchemaResponseFormat { get; init; } = true;

    /// <summary>Gets a value indicating whether the endpoint is asked to enforce schemas strictly (OpenAI's strict mode). Default <see langword="true"/>.</summary>
    public bool UseStrictJsonSchema { get; init; } = true;

    /// <summary>Gets how many model calls of one user's build may run at once. Default 4.</summary>
    public int MaxConcurrency { get; init; } = 4;

    /// <summary>
    /// Gets how many history items share one call of RPM's per-item build stages (features, reasoning paths): 1, the
    /// paper's setting, by default. Sets <see cref="RpmOptions.FeatureExtractionBatchSize"/> and
    /// <see cref="RpmOptions.ReasoningBatchSize"/>.
    /// </summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Gets the chat client, or throws a clear error when the method needs one and none is set.</summary>
    /// <returns>The chat client.</returns>
    /// <exception cref="InvalidOperationException">No chat model is set.</exception>
    public IChatClient RequireChatClient() =>
        ChatClient ?? throw new InvalidOperationException("This method needs a chat model; pass an endpoint (--endpoint, RPM_ENDPOINT) to run it.");

    /// <summary>Gets the embedding generator, or throws a clear error when none is set.</summary>
    /// <returns>The embedding generator.</returns>
    /// <exception cref="InvalidOperationException">No embedding generator is set.</exception>
    public IEmbeddingGenerator<string, Embedding<float>> RequireEmbeddingGenerator() =>
        EmbeddingGenerator ?? throw new InvalidOperationException("This method needs an embedding generator (the local MiniLM model, or an embedding endpoint).");

    /// <summary>Creates RPM options matching these settings (K, concurrency, tokenizer, chat options).</summary>
    /// <returns>The options.</returns>
    public RpmOptions CreateRpmOptions() => new()
    {
        RetrievalCount = RetrievalCount,
        MaxConcurrency = MaxConcurrency,
        FeatureExtractionBatchSize = BatchSize,
        ReasoningBatchSize = BatchSize,
        Tokenizer = Tokenizer,
        ChatOptions = ChatOptions,
        MaxInputTokens = MaxInputTokens,
        UseJsonSchemaResponseFormat = UseJsonSchemaResponseFormat,
        UseStrictJsonSchema = UseStrictJsonSchema,
    };

    /// <summary>Creates the structured-output settings every baseline call uses (the same as RPM's: one repair turn).</summary>
    /// <returns>The settings.</returns>
    internal ValidatedOutputOptions CreateOutputOptions() => new()
    {
        ChatOptions = ChatOptions,
        UseJsonSchemaResponseFormat = UseJsonSchemaResponseFormat,
        UseStrictJsonSchema = UseStrictJsonSchema,
    };
}
