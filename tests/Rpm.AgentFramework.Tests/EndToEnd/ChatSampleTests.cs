using System.Diagnostics;
using System.Text.Json.Nodes;
using Rpm.Tests;
using Rpm.Tests.Fakes;

namespace Rpm.AgentFramework.Tests.EndToEnd;

/// <summary>
/// Runs samples/Rpm.ChatSample as a user would (a process, stdin piped) against an OpenAI-compatible endpoint on loopback
/// whose answers come from the fake model, and checks what it prints and what went over the wire. The fake's answers
/// are not a quality result.
/// </summary>
public sealed class ChatSampleTests : IDisposable
{
    private const string Heat = "Would I like Heat (1995)? Genres: Action, Crime, Thriller.";
    private const string ToyStory = "And Toy Story (1995)? Genres: Adventure, Animation, Children, Comedy, Fantasy.";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "rpm-chat-sample-" + Guid.NewGuid().ToString("N"));

    public ChatSampleTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task The_chat_sample_builds_once_prints_each_turns_personalization_records_ratings_and_reuses_the_saved_model()
    {
        var model = new FakeChatClient("chat-model") { Respond = r => r.SchemaName is null ? "[fake answer to: " + r.Messages.Last(m => m.Role.Value == "user").Text + "]" : null };
        await using var server = new FakeOpenAiServer(model);
        string db = Path.Combine(_folder, "chat.db");

        // First run: UseRpm() middleware; the model is built into the file.
        var (code, output) = await RunAsync(server, ["--history", "6", "--db", db], $"{Heat}\n/rate 4\n{ToyStory}\n\n");

        Assert.True(code == 0, output);
        Assert.Contains("Chat through ChatClientBuilder.UseRpm().", output, StringComparison.Ordinal);
        Assert.Contains("Built the model: ", output, StringComparison.Ordinal);
        Assert.Contains(", 6 past ratings, 13 calls, ", output, StringComparison.Ordinal);
        Assert.Equal(2, Count(output, "  [rpm] added to this turn (QueryFeatures): 1 extra chat call(s), 120 tokens"));
        Assert.Equal(2, Count(output, "  [rpm] message features: "));
        Assert.Equal(2, Count(output, "  [rpm] factors: "));
        Assert.Equal(6, Count(output, "  [rpm] retrieved 0."));                  // K = 3 past ratings with their similarity, per turn
        Assert.Contains("Assistant: [fake answer to: " + Heat + "]", output, StringComparison.Ordinal);
        Assert.Contains("Assistant: [fake answer to: " + ToyStory + "]", output, StringComparison.Ordinal);
        Assert.Contains($"Recorded: \"{Heat}\" -> 4.0; the model now has 7 past ratings.", output, StringComparison.Ordinal);
        Assert.True(output.IndexOf("  [rpm] retrieved", StringComparison.Ordinal) < output.IndexOf("Assistant: ", StringComparison.Ordinal), "The personalization is printed before the answer.");

        List<JsonObject> bodies = [.. server.Bodies];
        Assert.All(bodies.Take(13), b => Assert.NotNull(b["response_format"]));  // the build: 2 x 6 + 1 stage calls
        List<JsonObject> chats = [.. bodies.Where(b => b["response_format"] is null)];
        Assert.Equal(2, chats.Count);
        Assert.All(chats, c => Assert.Contains("<data>", SystemText(c), StringComparison.Ordinal));
        Assert.All(chats, c => Assert.StartsWith("You are a movie assistant", SystemText(c), StringComparison.Ordinal));
        Assert.Equal(2, chats[1]["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "user"));   // the conversation goes on

        // Second run: the agent with RpmContextProvider over the same file; nothing is rebuilt.
        int before = server.Bodies.Count;
        (code, output) = await RunAsync(server, ["--history", "6", "--db", db, "--agent"], $"{Heat}\n/rate 4.5\n");

        Assert.True(code == 0, output);
        Assert.Contains("Chat through a ChatClientAgent with RpmContextProvider.", output, StringComparison.Ordinal);
        Assert.Contains("Loaded the saved model from ", output, StringComparison.Ordinal);
        Assert.Contains(", 7 past ratings, no calls.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Built the model", output, StringComparison.Ordinal);
        Assert.Single(Lines(output, "  [rpm] added to this turn (QueryFeatures): 1 extra chat call(s)"));
        Assert.Equal(3, Count(output, "  [rpm] retrieved "));
        Assert.Single(Lines(output, "  [rpm] retrieved "), l => l.EndsWith($"  {Heat} -> 4.0", StringComparison.Ordinal));   // the rating recorded in the first run
        Assert.Contains($"Recorded: \"{Heat}\" -> 4.5; the model now has 8 past ratings.", output, StringComparison.Ordinal);
        List<JsonObject> again = [.. server.Bodies.Skip(before)];
        Assert.Equal("rpm_featurelist", again[0]["response_format"]!["json_schema"]!["name"]!.GetValue<string>());   // the turn's feature call comes first: no build
        JsonObject agentChat = Assert.Single(again, b => b["response_format"] is null);
        Assert.Contains("<data>", SystemText(agentChat), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_an_endpoint_the_chat_sample_says_what_to_set_and_exits_cleanly()
    {
        var start = Start(["--db", Path.Combine(_folder, "unused.db")]);
        start.Environment.Remove("RPM_ENDPOINT");
        start.Environment.Remove("RPM_API_KEY");

        var (code, output) = await RunAsync(start, string.Empty);

        Assert.True(code == 0, output);
        Assert.Contains("No chat endpoint is configured", output, StringComparison.Ordinal);
        Assert.Contains("RPM_ENDPOINT=", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "unused.db")));
    }

    private static string SystemText(JsonObject body) =>
        string.Join("\n", body["messages"]!.AsArray().Where(m => m!["role"]!.GetValue<string>() == "system").Select(m => m!["content"] is JsonArray parts
            ? string.Concat(parts.Select(p => p!["text"]?.GetValue<string>()))
            : m["content"]!.GetValue<string>()));

    private static int Count(string text, string part) => Lines(text, part).Count;

    private static List<string> Lines(string text, string part) => [.. text.Split('\n').Where(l => l.Contains(part, StringComparison.Ordinal))];

    private ProcessStartInfo Start(string[] args)
    {
        // The sample is built with the tests (a build-only project reference), in the same configuration.
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string sample = Path.Combine(Path.GetDirectoryName(TestData.DataDirectory)!, "Rpm.ChatSample", "bin", configuration, "net10.0", "Rpm.ChatSample.dll");
        Assert.True(File.Exists(sample), $"The sample was not built at {sample}.");
        var start = new ProcessStartInfo("dotnet", [sample, .. args])
        {
            WorkingDirectory = _folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Remove("RPM_API_KEY");
        return start;
    }

    private Task<(int Code, string Output)> RunAsync(FakeOpenAiServer server, string[] args, string input)
    {
        ProcessStartInfo start = Start(args);
        start.Environment["RPM_ENDPOINT"] = server.Endpoint.ToString();
        start.Environment["RPM_MODEL"] = server.Model.ModelId;
        return RunAsync(start, input);
    }

    private static async Task<(int Code, string Output)> RunAsync(ProcessStartInfo start, string input)
    {
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (process.ExitCode, await stdout + await stderr);
    }
}
