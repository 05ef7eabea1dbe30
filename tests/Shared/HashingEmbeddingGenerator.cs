using System.Text;
using Microsoft.Extensions.AI;

namespace Rpm.Testing;

/// <summary>
/// The one stand-in embedding model of the tests and benchmarks (linked as source into each project that needs it): a
/// deterministic bag of words hashed into <see cref="Dimensions"/> dimensions, the same in every process (no randomized
/// string hash), so that child processes, golden prompts and retrieval tests agree. Records every text it embeds.
/// </summary>
/// <remarks>Tokens are LaMP's ROUGE tokens (lower-cased ASCII letters and digits, as rouge_score splits them), so the
/// neighbours of a text are those sharing its words.</remarks>
public sealed class HashingEmbeddingGenerator(int dimensions = 64) : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly List<string> _inputs = [];

    /// <summary>Gets the vector length.</summary>
    public int Dimensions { get; } = dimensions > 1 ? dimensions : throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "At least 2 dimensions.");

    /// <summary>Gets the model id every embedding carries, <c>hashing-{dimensions}</c>.</summary>
    public string ModelId => $"hashing-{Dimensions}";

    /// <summary>Gets every text embedded so far, in order.</summary>
    public IReadOnlyList<string> Inputs
    {
        get
        {
            lock (_inputs)
            {
                return [.. _inputs];
            }
        }
    }

    /// <summary>Embeds one text in 64 dimensions, as the default generator does.</summary>
    public static float[] Embed(string text) => Embed(text, 64);

    /// <summary>Embeds one text: one count per token in its hashed dimension, plus 0.01 in the last (never a zero vector).</summary>
    public static float[] Embed(string text, int dimensions)
    {
        var vector = new float[dimensions];
        foreach (string token in Tokenize(text))
        {
            vector[(int)((uint)StableHash(token) % (uint)dimensions)] += 1;
        }

        vector[dimensions - 1] += 0.01f;
        return vector;
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        List<string> list = [.. values];
        lock (_inputs)
        {
            _inputs.AddRange(list);
        }

        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(list.Select(t => new Embedding<float>(Embed(t, Dimensions)) { ModelId = ModelId })));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("hashing", null, ModelId, Dimensions)
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }

    private static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var token = new StringBuilder();
        foreach (char c in text)
        {
            char? kept = c switch
            {
                >= 'a' and <= 'z' or >= '0' and <= '9' => c,
                >= 'A' and <= 'Z' => (char)(c + ('a' - 'A')),
                '\u212A' => 'k',
                _ => null,
            };

            if (kept is char k)
            {
                token.Append(k);
                continue;
            }

            if (c == '\u0130')
            {
                token.Append('i');
            }

            Flush();
        }

        Flush();
        return tokens;

        void Flush()
        {
            if (token.Length > 0)
            {
                tokens.Add(token.ToString());
                token.Clear();
            }
        }
    }

    private static int StableHash(string text)
    {
        unchecked
        {
            int hash = 17;
            foreach (char c in text)
            {
                hash = (hash * 31) + c;
            }

            return hash;
        }
    }
}
