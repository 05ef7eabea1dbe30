using Microsoft.ML.Tokenizers;

namespace Rpm.Evaluation;

/// <summary>The tokenizer the harness counts with when an endpoint reports no usage.</summary>
public static class EvaluationTokenizer
{
    private static readonly Lazy<Tokenizer> Lazy = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Gets the o200k_base tokenizer (GPT-4o, GPT-4o-mini); loaded on first use (about 0.2 s).</summary>
    public static Tokenizer O200kBase => Lazy.Value;
}
