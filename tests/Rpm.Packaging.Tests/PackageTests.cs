using System.IO.Compression;
using System.Xml.Linq;

namespace Rpm.Packaging.Tests;

/// <summary>Every package a user can debug into and read on its package page; the rpm tool within the gallery's size limit.</summary>
[Collection(PackagesCollection.Name)]
public sealed class PackageTests(Packages packages)
{
    public static TheoryData<string, string> Libraries => new()
    {
        { "Rpm.Core", "src/Rpm.Core/Rpm.Core.csproj" },
        { "Rpm.OpenAI", "src/Rpm.OpenAI/Rpm.OpenAI.csproj" },
        { "Rpm.OpenAI.Batch", "src/Rpm.OpenAI.Batch/Rpm.OpenAI.Batch.csproj" },
        { "Rpm.Embeddings.MiniLM", "src/Rpm.Embeddings.MiniLM/Rpm.Embeddings.MiniLM.csproj" },
        { "Rpm.Evaluation", "src/Rpm.Evaluation/Rpm.Evaluation.csproj" },
        { "Rpm.Storage.Sqlite", "src/Rpm.Storage.Sqlite/Rpm.Storage.Sqlite.csproj" },
        { "Rpm.Storage.PostgreSql", "src/Rpm.Storage.PostgreSql/Rpm.Storage.PostgreSql.csproj" },
        { "Rpm.AgentFramework", "src/Rpm.AgentFramework/Rpm.AgentFramework.csproj" },
        { "Rpm.Hosting", "src/Rpm.Hosting/Rpm.Hosting.csproj" },
        { "Rpm.AspNetCore", "src/Rpm.AspNetCore/Rpm.AspNetCore.csproj" },
    };

    [Fact]
    public void Every_library_under_src_is_packed_here_and_built_before_these_tests()
    {
        // A library missing from either list is packed before it is built, or not checked at all.
        string[] libraries = [.. Directory.GetFiles(Path.Combine(packages.Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(packages.Root, p).Replace('\\', '/')).Order(StringComparer.Ordinal)];
        string references = File.ReadAllText(Path.Combine(packages.Root, "tests", "Rpm.Packaging.Tests", "Rpm.Packaging.Tests.csproj"));

        Assert.Equal(libraries, Libraries.Select(row => (string)row[1]).Order(StringComparer.Ordinal));
        Assert.All(libraries, project => Assert.Contains($"\"../../{project}\" ReferenceOutputAssembly=\"false\"", references, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Each_library_package_has_its_own_readme_symbols_and_a_license(string id, string project)
    {
        string package = packages.Pack(project, id);

        using ZipArchive zip = ZipFile.OpenRead(package);
        XDocument nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        XNamespace ns = nuspec.Root!.Name.Namespace;
        XElement metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal("README.md", metadata.Element(ns + "readme")?.Value);
        string readme = new StreamReader(zip.GetEntry("README.md")!.Open()).ReadToEnd();
        Assert.StartsWith("# " + id, readme, StringComparison.Ordinal);
        Assert.Contains("dotnet add package " + id, readme, StringComparison.Ordinal);
        Assert.DoesNotContain("](src/", readme, StringComparison.Ordinal);   // no link that breaks on a package page
        Assert.True(readme.Length < 4000, "A package README is a short page, not the repository README.");
        Assert.Equal("MIT", metadata.Element(ns + "license")?.Value);
        Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")), "No symbol package beside " + package);
        Assert.NotNull(metadata.Element(ns + "repository"));
    }

    [Fact]
    public void Rpm_Core_depends_on_the_design_cards_packages_and_the_abstractions_every_DI_library_uses_only()
    {
        using ZipArchive zip = ZipFile.OpenRead(packages.Pack("src/Rpm.Core/Rpm.Core.csproj", "Rpm.Core"));
        XDocument nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        string[] dependencies = [.. nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).Order(StringComparer.Ordinal)];

        // Microsoft.Extensions.AI for ChatClientBuilder.UseRpm(); options (with configuration binding), the memory cache and
        // logging are the abstractions-level packages every DI library uses. No database driver, model runtime or agent framework.
        Assert.Equal(
            [
                "Microsoft.Extensions.AI", "Microsoft.Extensions.Caching.Memory", "Microsoft.Extensions.DependencyInjection.Abstractions",
                "Microsoft.Extensions.Logging.Abstractions", "Microsoft.Extensions.Options.ConfigurationExtensions", "Microsoft.ML.Tokenizers",
                "System.Numerics.Tensors",
            ],
            dependencies);
    }

    [Fact]
    public void The_rpm_tool_package_fits_the_gallerys_limit_with_room_to_spare()
    {
        string package = packages.Pack("samples/Rpm.Cli/Rpm.Cli.csproj", "Rpm.Cli");

        long size = new FileInfo(package).Length;
        Assert.True(size < 200L * 1000 * 1000, $"The rpm tool package is {size / 1e6:0} MB; the NuGet gallery takes at most 250 MB.");
        using ZipArchive zip = ZipFile.OpenRead(package);
        Assert.DoesNotContain(zip.Entries, e => e.FullName.Contains("/runtimes/ios", StringComparison.Ordinal) || e.FullName.Contains("/runtimes/android", StringComparison.Ordinal));
        Assert.Contains(zip.Entries, e => e.FullName.EndsWith("runtimes/linux-x64/native/libonnxruntime.so", StringComparison.Ordinal));
        Assert.Contains(zip.Entries, e => e.FullName.EndsWith("runtimes/win-x64/native/onnxruntime.dll", StringComparison.Ordinal));
        Assert.Contains(zip.Entries, e => e.FullName.EndsWith("runtimes/osx-arm64/native/libonnxruntime.dylib", StringComparison.Ordinal));
    }
}
