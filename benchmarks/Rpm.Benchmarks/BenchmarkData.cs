using Rpm.Simd;

namespace Rpm.Benchmarks;

/// <summary>Deterministic random data: standard normal components, the hardest case for int8 quantization among simple distributions.</summary>
public static class BenchmarkData
{
    private const int ChunkLength = 1 << 20;

    /// <summary>Standard normal values; chunks are drawn in parallel, each from its own seeded generator, so the result does not depend on the core count.</summary>
    public static float[] Gaussian(int seed, long length)
    {
        var values = new float[length];
        int chunks = (int)((length + ChunkLength - 1) / ChunkLength);
        Parallel.For(0, chunks, chunk =>
        {
            var random = new Random(HashCode.Combine(seed, chunk));
            long end = Math.Min(length, ((long)chunk + 1) * ChunkLength);
            for (long i = (long)chunk * ChunkLength; i < end; i += 2)
            {
                double radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
                (double sin, double cos) = Math.SinCos(2 * Math.PI * random.NextDouble());
                values[i] = (float)(radius * cos);
                if (i + 1 < end)
                {
                    values[i + 1] = (float)(radius * sin);
                }
            }
        });

        return values;
    }

    public static float[] NormalizedQuery(int seed, int dimensions)
    {
        float[] query = Gaussian(seed, dimensions);
        CosineKernel.Normalize(query, query);
        return query;
    }

    /// <summary>The repository's root (the folder with Rpm.Core.sln), found from the current or the program's folder.</summary>
    public static string RepositoryRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Rpm.Core.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("Run from inside the repository: the bundled data (samples/data) is read from its root.");
    }
}
