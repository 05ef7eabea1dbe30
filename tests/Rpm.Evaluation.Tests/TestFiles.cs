namespace Rpm.Evaluation.Tests;

/// <summary>Paths of the repository's data and a scratch folder per test.</summary>
internal static class TestFiles
{
    public static string Root { get; } = FindRoot();

    public static string MovieLensRatings => Path.Combine(Root, "samples", "data", "movielens-ratings");

    public static string MovieLensTags => Path.Combine(Root, "samples", "data", "movielens-tags");

    public static string OpinionsSample => Path.Combine(Root, "samples", "data", "opinions-sample.json");

    public static string NewFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "rpm-eval-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static string Write(string folder, string name, string content)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string FindRoot()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Rpm.Core.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("Cannot find the repository root (Rpm.Core.sln) above " + AppContext.BaseDirectory);
    }
}
