namespace Rpm.Evaluation;

/// <summary>
/// An arm of RPM's ablation (arXiv 2505.21082, Table 2 on LaMP-2 accuracy: query only 0.430; + query features and C_u
/// 0.465; + retrieved (q, a) pairs 0.485; + generic CoT 0.492; full RPM 0.561; and Table 3, the retrieval key). Each
/// arm reuses RPM's user model (the same build) and changes only what a query's prompt holds or how it retrieves.
/// </summary>
internal enum RpmAblation
{
    /// <summary><c>rpm-no-examples</c>: the query, its factor-aware features (stage 5) and the user's factor statistics C_u; no examples.</summary>
    NoExamples,

    /// <summary><c>rpm-pairs</c>: as <see cref="NoExamples"/>, plus the K (input, answer) pairs retrieved by feature text (stage 6), without their features or reasoning paths.</summary>
    Pairs,

    /// <summary><c>rpm-pairs-cot</c>: as <see cref="Pairs"/>, plus generic chain-of-thought (the model reasons step by step on its own before answering).</summary>
    PairsCot,

    /// <summary><c>rpm-query-key</c>: full RPM, except that stage 6 retrieves the K reasoning paths whose history input is most similar to the raw query's content, not by feature text.</summary>
    QueryKey,
}
