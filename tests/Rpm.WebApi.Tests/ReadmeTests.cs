using System.Text.RegularExpressions;

namespace Rpm.WebApi.Tests;

/// <summary>The README's web section is the sample's code, not a copy that drifts from it.</summary>
public sealed partial class ReadmeTests
{
    [Fact]
    public void The_READMEs_web_service_block_is_the_samples_Program_cs()
    {
        string root = Root();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        string section = readme[readme.IndexOf("## In a web service", StringComparison.Ordinal)..];
        Match block = CodeBlockRegex().Match(section);
        string program = File.ReadAllText(Path.Combine(root, "samples", "Rpm.WebApi", "Program.cs")).ReplaceLineEndings("\n");

        Assert.True(block.Success, "The README's web section has no csharp block.");
        Assert.Equal(program, block.Groups[1].Value);
    }

    private static string Root()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Rpm.Core.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("Rpm.Core.sln not found above the test output.");
    }

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlockRegex();
}
