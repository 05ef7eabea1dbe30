using System.Text.RegularExpressions;

namespace Rpm.Packaging.Tests;

/// <summary>The README's quick start (a console app) and its web service (a minimal API app) compile exactly as pasted, with the packages the README names above each.</summary>
[Collection(PackagesCollection.Name)]
public sealed partial class ReadmeQuickStartTests(Packages packages)
{
    private static readonly Dictionary<string, string> Projects = new(StringComparer.Ordinal)
    {
        ["Rpm.Core"] = "src/Rpm.Core/Rpm.Core.csproj",
        ["Rpm.OpenAI"] = "src/Rpm.OpenAI/Rpm.OpenAI.csproj",
        ["Rpm.OpenAI.Batch"] = "src/Rpm.OpenAI.Batch/Rpm.OpenAI.Batch.csproj",
        ["Rpm.Embeddings.MiniLM"] = "src/Rpm.Embeddings.MiniLM/Rpm.Embeddings.MiniLM.csproj",
        ["Rpm.Storage.Sqlite"] = "src/Rpm.Storage.Sqlite/Rpm.Storage.Sqlite.csproj",
        ["Rpm.Storage.PostgreSql"] = "src/Rpm.Storage.PostgreSql/Rpm.Storage.PostgreSql.csproj",
        ["Rpm.Evaluation"] = "src/Rpm.Evaluation/Rpm.Evaluation.csproj",
        ["Rpm.AgentFramework"] = "src/Rpm.AgentFramework/Rpm.AgentFramework.csproj",
        ["Rpm.Hosting"] = "src/Rpm.Hosting/Rpm.Hosting.csproj",
        ["Rpm.AspNetCore"] = "src/Rpm.AspNetCore/Rpm.AspNetCore.csproj",
    };

    [Fact]
    public void The_quick_start_block_compiles_as_pasted_against_the_packed_packages() =>
        CompileSection("## Quick start", "Microsoft.NET.Sdk", "Exe");

    [Fact]
    public void The_web_service_block_compiles_as_pasted_as_a_web_app_against_the_packed_packages() =>
        CompileSection("## In a web service", "Microsoft.NET.Sdk.Web", null);

    private void CompileSection(string heading, string sdk, string? outputType)
    {
        string readme = File.ReadAllText(Path.Combine(packages.Root, "README.md"));
        int start = readme.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"The README has no section '{heading}'.");
        string section = readme[start..];
        Match block = CodeBlockRegex().Match(section);
        Assert.True(block.Success, $"The README's section '{heading}' has no csharp block.");
        string[] named = [.. PackageRegex().Matches(section[..block.Index]).Select(m => m.Groups[1].Value)];
        Assert.NotEmpty(named);

        foreach (string id in named)
        {
            Assert.True(Projects.ContainsKey(id), $"The README names package '{id}', which this repository does not produce.");
            packages.Pack(Projects[id], id);
        }

        string app = Path.Combine(Path.GetTempPath(), "rpm-quickstart-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "Program.cs"), block.Groups[1].Value);
        File.WriteAllText(Path.Combine(app, "QuickStart.csproj"), $"""
            <Project Sdk="{sdk}">
              <PropertyGroup>
                {(outputType is null ? string.Empty : $"<OutputType>{outputType}</OutputType>")}
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- The package mirror of this machine serves newer versions than MiniLM's dependencies name (NU1603). -->
                <NoWarn>NU1603</NoWarn>
              </PropertyGroup>
              <ItemGroup>
            {string.Join("\n", named.Select(id => $"    <PackageReference Include=\"{id}\" Version=\"{packages.Version}\" />"))}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="rpm-test-feed" value="{packages.Feed}" />
              </packageSources>
            </configuration>
            """);

        var (code, output) = Packages.Run(app, "dotnet", "build", "-c", "Release");

        Assert.True(code == 0, $"The README's section '{heading}' does not compile as pasted:\n" + output);
        Directory.Delete(app, recursive: true);
    }

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlockRegex();

    [GeneratedRegex(@"dotnet add package ([A-Za-z0-9.]+)")]
    private static partial Regex PackageRegex();
}
