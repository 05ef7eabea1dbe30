namespace Rpm.Evaluation;

/// <summary>How RAG finds the history items for a query (the key is the query's content, <see cref="EvaluationQuery.Content"/>, never RPM's features).</summary>
internal enum RagRetriever
{
    /// <summary>Okapi BM25 over the history inputs.</summary>
    Bm25,

    /// <summary>Cosine similarity of embeddings of the history inputs (the same embedding generator RPM uses).</summary>
    Dense,
}
