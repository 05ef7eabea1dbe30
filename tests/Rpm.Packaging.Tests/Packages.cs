using System.Diagnostics;

namespace Rpm.Packaging.Tests;

/// <summary>Packs the repository's projects once per test run, with a version of their own so that no package cache holds a stale copy.</summary>
public sealed class Packages : IDisposable
{
    public Packages()
    {
        Root = FindRoot();
        Configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        Version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
        Feed = Path.Combine(Path.GetTempPath(), "rpm-packages-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Feed);
    }

    public string Root { get; }

    public string Configuration { get; }

    public string Version { get; }

    /// <summary>Gets the folder the packages are packed into (a local NuGet feed).</summary>
    public string Feed { get; }

    public string PackagePath(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    /// <summary>Packs a project (already built by the test's own build) into the feed, after the library projects it references (its package dependencies).</summary>
    public string Pack(string project, string id)
    {
        if (!File.Exists(PackagePath(id)))
        {
            string folder = Path.GetDirectoryName(Path.Combine(Root, project))!;
            foreach (string reference in System.Xml.Linq.XDocument.Load(Path.Combine(Root, project)).Descendants("ProjectReference")
                .Select(e => Path.GetRelativePath(Root, Path.GetFullPath(Path.Combine(folder, e.Attribute("Include")!.Value))).Replace('\\', '/'))
                .Where(r => r.StartsWith("src/", StringComparison.Ordinal)))
            {
                Pack(reference, Path.GetFileNameWithoutExtension(reference));
            }

            var (code, output) = Run(Root, "dotnet", "pack", project, "-c", Configuration, "--no-build", "-o", Feed, $"-p:Version={Version}");
            Assert.True(code == 0, $"dotnet pack {project} failed:\n{output}");
        }

        return PackagePath(id);
    }

    public static (int Code, string Output) Run(string folder, string file, params string[] args)
    {
        var start = new ProcessStartInfo(file, args) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
        }

        return (process.ExitCode, output.Result + error.Result);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Feed, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string FindRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Rpm.Core.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("Rpm.Core.sln not found above the test output.");
    }
}

[CollectionDefinition(Name)]
public sealed class PackagesCollection : ICollectionFixture<Packages>
{
    public const string Name = "Packages";
}
