namespace Rpm.Benchmarks;

/// <summary>Deterministic random data: standard normal components, the hardest case for int8 quantization among simple distributions.</summary>
public static class BenchmarkData
{
    public static float[] Gaussian(int seed, long length)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (long i = 0; i < length; i += 2)
        {
            double radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
            double angle = 2 * Math.PI * random.NextDouble();
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < length)
            {
                values[i + 1] = (float)(radius * Math.Sin(angle));
            }
        }

        return values;
    }

    public static float[] NormalizedQuery(int seed, int dimensions)
    {
        float[] query = Gaussian(seed, dimensions);
        CosineKernel.Normalize(query, query);
        return query;
    }
}
