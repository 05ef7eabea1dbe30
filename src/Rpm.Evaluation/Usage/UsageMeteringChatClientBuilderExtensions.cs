using Microsoft.ML.Tokenizers;
using Rpm.Evaluation;

namespace Microsoft.Extensions.AI;

/// <summary>Adds the evaluation's usage metering to a chat pipeline.</summary>
internal static class UsageMeteringChatClientBuilderExtensions
{
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
