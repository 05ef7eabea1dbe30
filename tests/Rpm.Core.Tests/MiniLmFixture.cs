using Rpm.Embeddings.MiniLM;

namespace Rpm.Tests;

/// <summary>One real local MiniLM model shared by every test that embeds (loading it takes about a second).</summary>
public sealed class MiniLmFixture : IDisposable
{
    public MiniLmEmbeddingGenerator Generator { get; } = new();

    public void Dispose() => Generator.Dispose();
}

[CollectionDefinition(Name)]
public sealed class MiniLmCollection : ICollectionFixture<MiniLmFixture>
{
    public const string Name = "MiniLM";
}
