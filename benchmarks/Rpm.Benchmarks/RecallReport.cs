using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rpm.Embeddings.MiniLM;
using Rpm.Simd;

namespace Rpm.Benchmarks;

/// <summary>
/// Recall@K of the compact (int8) search against the exact float search, on random vectors and on real MiniLM
/// embeddings of the MovieLens sample: the final answer (after the exact re-score), and the int8 scores alone.
/// Run: <c>dotnet run -c Release --project benchmarks/Rpm.Benchmarks -- recall [rows] [queries]</c>.
/// </summary>
public static class RecallReport
{
    public static async Task<int> RunAsync(string[] args)
    {
        int rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        int queries = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100;
        Console.WriteLine($"| data set | rows | queries | K | recall@K compact (re-scored) | identical to exact (rows and scores) | recall@K int8 scores alone | mean rows re-scored |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");

        var random = VectorMatrix.Create(384, BenchmarkData.Gaussian(42, (long)rows * 384));
        var randomQueries = Enumerable.Range(0, queries).Select(i => BenchmarkData.Gaussian(1000 + i, 384)).ToList();
        Report($"random normal, 384 dims", random, randomQueries, 3);
        Report($"random normal, 384 dims", random, randomQueries, 10);

        (List<string> profile, List<string> questions) = LoadMovieLens();
        using var generator = new MiniLmEmbeddingGenerator();
        var watch = Stopwatch.StartNew();
        GeneratedEmbeddings<Embedding<float>> profileEmbeddings = await generator.GenerateAsync(profile).ConfigureAwait(false);
        GeneratedEmbeddings<Embedding<float>> questionEmbeddings = await generator.GenerateAsync(questions).ConfigureAwait(false);
        Console.Error.WriteLine($"Embedded {profile.Count + questions.Count} texts with MiniLM in {watch.Elapsed.TotalSeconds:F0} s.");
        var real = VectorMatrix.Create(384, [.. profileEmbeddings.Select(e => e.Vector)]);
        var realQueries = questionEmbeddings.Select(e => e.Vector.ToArray()).ToList();
        Report("MiniLM, MovieLens titles", real, realQueries, 3);
        Report("MiniLM, MovieLens titles", real, realQueries, 10);
        return 0;
    }

    private static void Report(string name, VectorMatrix exact, List<float[]> queries, int k)
    {
        QuantizedVectorMatrix compact = exact.Quantize();
        int[] exactIndices = new int[k], compactIndices = new int[k], approximateIndices = new int[k];
        float[] exactScores = new float[k], compactScores = new float[k], approximateScores = new float[k];
        double recall = 0, approximateRecall = 0;
        long rescored = 0;
        int identical = 0;
        foreach (float[] query in queries)
        {
            exact.Search(query, exactIndices, exactScores);
            compact.Search(query, compactIndices, compactScores, Int8Kernels.Best, KernelWidth.Vector512, approximate: false, out int count);
            compact.Search(query, approximateIndices, approximateScores, Int8Kernels.Best, KernelWidth.Vector512, approximate: true, out _);
            rescored += count;
            recall += (double)compactIndices.Intersect(exactIndices).Count() / k;
            approximateRecall += (double)approximateIndices.Intersect(exactIndices).Count() / k;
            if (compactIndices.AsSpan().SequenceEqual(exactIndices) && compactScores.AsSpan().SequenceEqual(exactScores))
            {
                identical++;
            }
        }

        int n = queries.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {exact.Count:N0} | {n} | {k} | {recall / n:F4} | {identical}/{n} | {approximateRecall / n:F4} | {(double)rescored / n:F1} |"));
    }

    // Profile items are the corpus (unique titles); each question's movie ("movie: ...") is a query.
    private static (List<string> Profile, List<string> Questions) LoadMovieLens()
    {
        string path = FindUp(Path.Combine("samples", "data", "movielens-ratings", "questions.json"));
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        var profile = new SortedSet<string>(StringComparer.Ordinal);
        var questions = new List<string>();
        foreach (JsonElement question in document.RootElement.EnumerateArray())
        {
            string input = question.GetProperty("input").GetString()!;
            int movie = input.LastIndexOf("movie: ", StringComparison.Ordinal);
            questions.Add(movie >= 0 ? input[(movie + 7)..] : input);
            foreach (JsonElement item in question.GetProperty("profile").EnumerateArray())
            {
                profile.Add(item.GetProperty("text").GetString()!);
            }
        }

        return ([.. profile], questions);
    }

    private static string FindUp(string relative)
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        string fromWorkingDirectory = Path.GetFullPath(relative);
        return File.Exists(fromWorkingDirectory) ? fromWorkingDirectory : throw new FileNotFoundException($"Cannot find {relative} above {AppContext.BaseDirectory}.");
    }
}
