using Microsoft.ML.Tokenizers;
using Rpm.Evaluation;

namespace Microsoft.Extensions.AI;

/// <summary>The evaluation's chat middleware, composed the way Microsoft.Extensions.AI composes its own (<c>UseDistributedCache</c>, <c>UseOpenTelemetry</c>).</summary>
public static class EvaluationChatClientBuilderExtensions
{
    /// <summary>Adds an <see cref="SqliteCachingChatClient"/> layer: every accepted answer kept in the cache file, so a repeated run pays only for what is missing.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="store">The cache file.</param>
    /// <param name="scope">The method scope that is part of every key (e.g. <c>rag-bm25</c>).</param>
    /// <param name="modelId">The model that is part of every key.</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseAnswerCache(this ChatClientBuilder builder, SqliteResponseStore store, string scope, string modelId)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        ArgumentNullException.ThrowIfNull(modelId);
        return builder.Use(inner => new SqliteCachingChatClient(inner, store, scope, modelId));
    }

    /// <summary>Adds a <see cref="MeteringChatClient"/> layer that counts calls and tokens into <paramref name="meters"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="tokenizer">Counts the tokens of calls whose endpoint reports none; <see langword="null"/> to leave them at 0.</param>
    /// <param name="meters">Where to count.</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseUsageMetering(this ChatClientBuilder builder, Tokenizer? tokenizer, params UsageMeter[] meters)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(meters);
        return builder.Use(inner => new MeteringChatClient(inner, tokenizer, meters));
    }
}
