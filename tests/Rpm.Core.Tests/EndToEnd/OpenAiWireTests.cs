using System.ClientModel;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using OpenAI;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Tests.EndToEnd;

/// <summary>
/// The pipeline through the real Microsoft.Extensions.AI.OpenAI client and HTTP, against an OpenAI-compatible endpoint
/// on loopback whose answers come from the fake model: checks what actually goes over the wire.
/// </summary>
[Collection(MiniLmCollection.Name)]
public sealed class OpenAiWireTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task Structured_outputs_travel_as_json_schema_response_formats_and_usage_comes_back()
    {
        await using var server = new FakeOpenAiServer(new FakeChatClient("wire-model"));
        IChatClient client = new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = server.Endpoint })
            .GetChatClient("wire-model").AsIChatClient();
        var pipeline = new RpmPipeline(client, new RecordingEmbeddingGenerator(miniLm.Generator));

        UserModel model = await pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(4));
        RpmResponse response = await pipeline.RespondAsync(model, "movie: Aliens (1986). Genres: Action, Sci-Fi.");

        Assert.Equal(2 * 4 + 1 + 2, server.Bodies.Count);
        Assert.All(server.Bodies, b => Assert.Equal("json_schema", b["response_format"]!["type"]!.GetValue<string>()));
        Assert.Equal(
            ["rpm_answer", "rpm_factorlist", "rpm_featurelist", "rpm_reasoning"],
            server.Bodies.Select(b => b["response_format"]!["json_schema"]!["name"]!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains("\"features\"", server.Bodies[0]["response_format"]!["json_schema"]!["schema"]!.ToJsonString());
        Assert.Equal("wire-model", model.ChatModelId);
        Assert.Equal(9, model.BuildUsage.Calls);
        Assert.Equal(900, model.BuildUsage.InputTokens);
        Assert.Equal(3, response.Examples.Count);
        Assert.True(TestPipelines.Rating.TryNormalizeAnswer(response.Answer, null, out _, out _));
    }

    [Fact]
    public async Task The_quick_start_sample_runs_end_to_end_against_an_endpoint()
    {
        await using var server = new FakeOpenAiServer(new FakeChatClient("sample-model"));
        // The sample is built with the tests (a build-only project reference), in the same configuration.
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string sample = Path.Combine(Path.GetDirectoryName(TestData.DataDirectory)!, "Rpm.QuickStart", "bin", configuration, "net10.0", "Rpm.QuickStart.dll");
        Assert.True(File.Exists(sample), $"The sample was not built at {sample}.");
        var start = new ProcessStartInfo("dotnet", [sample])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["RPM_ENDPOINT"] = server.Endpoint.ToString(),
                ["RPM_MODEL"] = "sample-model",
                ["RPM_HISTORY"] = "6",
            },
        };
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));

        string output = await stdout;
        Assert.True(process.ExitCode == 0, output + await stderr);
        Assert.Contains("Answer: ", output);
        Assert.Contains("Most similar past reasoning:", output);
        Assert.Equal(2 * 6 + 1 + 2, server.Bodies.Count);
    }
}
