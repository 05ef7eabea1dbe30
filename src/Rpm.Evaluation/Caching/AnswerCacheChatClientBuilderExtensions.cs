using Rpm.Evaluation;

namespace Microsoft.Extensions.AI;

/// <summary>Adds the evaluation's answer cache to a chat pipeline, as Microsoft.Extensions.AI's <c>UseDistributedCache</c> adds its own.</summary>
internal static class AnswerCacheChatClientBuilderExtensions
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
}
