using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

namespace Rpm.Tests.Fakes;

/// <summary>Wraps a real embedding generator and records every text it was asked to embed.</summary>
public sealed class RecordingEmbeddingGenerator : DelegatingEmbeddingGenerator<string, Embedding<float>>
{
    private readonly ConcurrentQueue<string> _inputs = new();

    public RecordingEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner)
        : base(inner)
    {
    }

    public IReadOnlyList<string> Inputs => [.. _inputs];

    public override Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        List<string> list = [.. values];
        foreach (string value in list)
        {
            _inputs.Enqueue(value);
        }

        return base.GenerateAsync(list, options, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        // The inner generator is shared by the test fixture; it is disposed there.
    }
}
