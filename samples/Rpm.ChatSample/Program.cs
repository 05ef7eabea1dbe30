// Rpm chat sample: a console chat for one MovieLens user, personalized by RPM, over any OpenAI-compatible endpoint.
// The user's model is built once from the bundled data into a SQLite file; a re-run loads it and pays nothing.
//
//   RPM_ENDPOINT=http://localhost:11434/v1 RPM_MODEL=llama3.1 dotnet run --project samples/Rpm.ChatSample -- --user 3
//   ... dotnet run --project samples/Rpm.ChatSample -- --agent          (Agent Framework: ChatClientAgent + RpmContextProvider)
//
// Options: --user N (a user index 0-399, default 0), --history N (ratings to build from, default 20), --db PATH
// (default rpm-chat.db), --agent, --embedding (no extra chat call per turn). Settings: RPM_ENDPOINT, RPM_MODEL (default
// gpt-4o-mini), RPM_API_KEY, as in the quick start. Each stdin line is a message; an empty line or end of input ends the
// chat; "/rate 4.5" records the user's rating of the last movie asked about into the model.
using System.Globalization;
using System.Text.Json;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rpm;
using Rpm.Embeddings.MiniLM;
using Rpm.Samples;

const string Instructions =
    "You are a movie assistant for one person. When they ask about a movie, say how they would likely rate it (0.5 to 5 stars) " +
    "and why, drawing on what you are told about their past ratings. Answer in two or three sentences.";

if (!TryParseArguments(args, out int userIndex, out int historySize, out string dbPath, out bool useAgent, out RpmPersonalizationMode mode, out string? argumentError))
{
    Console.Error.WriteLine(argumentError);
    Console.Error.WriteLine("Usage: Rpm.ChatSample [--user 0-399] [--history N] [--db PATH] [--agent] [--embedding]");
    return 1;
}

string? apiKey = Environment.GetEnvironmentVariable("RPM_API_KEY");
string? endpoint = Environment.GetEnvironmentVariable("RPM_ENDPOINT") ?? (apiKey is null ? null : "https://api.openai.com/v1");
string chatModel = Environment.GetEnvironmentVariable("RPM_MODEL") ?? "gpt-4o-mini";
if (endpoint is not null && !(Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? endpointUri) && endpointUri.Scheme is "http" or "https"))
{
    Console.Error.WriteLine($"RPM_ENDPOINT '{endpoint}' is not an http(s) URL; e.g. http://localhost:11434/v1.");
    return 1;
}

string dataDir = SampleSupport.FindData();
var (userId, history) = LoadUser(Path.Combine(dataDir, "movielens-ratings"), userIndex, historySize);
Console.WriteLine($"User {userId}: {history.Count} past ratings from MovieLens (data: {dataDir}).");

if (endpoint is null || !await SampleSupport.IsReachableAsync(endpoint, apiKey))
{
    Console.WriteLine();
    Console.WriteLine(endpoint is null
        ? "No chat endpoint is configured, so nothing was sent to a model."
        : $"The chat endpoint {endpoint} did not answer, so nothing was sent to a model.");
    Console.WriteLine("Set RPM_ENDPOINT to an OpenAI-compatible base URL and RPM_MODEL to a model it serves, for example:");
    Console.WriteLine("  RPM_ENDPOINT=http://localhost:11434/v1 RPM_MODEL=llama3.1 dotnet run --project samples/Rpm.ChatSample   (Ollama)");
    Console.WriteLine("  RPM_API_KEY=sk-... RPM_MODEL=gpt-4o-mini dotnet run --project samples/Rpm.ChatSample                    (OpenAI)");
    return 0;
}

// One chat client for RPM's stages and for the chat itself, the local MiniLM embeddings, and a SQLite file that keeps
// the user model and the build's checkpoints (an interrupted build resumes; a finished one is loaded, not rebuilt).
var services = new ServiceCollection();
services.AddRpmOpenAIChatClient(o =>
{
    o.Endpoint = new Uri(endpoint);
    o.Model = chatModel;
    o.ApiKey = apiKey;
    o.OnRetry = retry => Console.WriteLine($"  ({retry})");
});
services.AddMiniLmEmbeddingGenerator();
services.AddRpm(o => o.ChatOptions = new ChatOptions { Temperature = 0 }).UseSqliteStore(dbPath);
await using ServiceProvider provider = services.BuildServiceProvider();
RpmPipeline rpm = provider.GetRequiredService<RpmPipeline>();
IChatClient chatClient = provider.GetRequiredService<IChatClient>();

RpmTask task = RpmTask.Rating(
    "movielens-rating",
    "Predict the rating, from 0.5 to 5 stars in steps of 0.5, that the user gives a movie, from the movie's title and genres.",
    new RatingScale(0.5, 5, 0.5));
try
{
    UserModel? saved = await rpm.GetUserModelAsync(userId);
    if (saved is null)
    {
        Console.WriteLine($"Building the model into {Path.GetFullPath(dbPath)}: {2 * history.Count + 1} chat calls, once.");
        UserModel built = await rpm.BuildUserModelAsync(userId, task, history);
        Console.WriteLine($"Built the model: {built.Statistics.Count} factors, {built.Paths.Count} past ratings, {built.BuildUsage.Calls} calls, {built.BuildUsage.TotalTokens} tokens.");
    }
    else
    {
        Console.WriteLine($"Loaded the saved model from {Path.GetFullPath(dbPath)}: {saved.Statistics.Count} factors, {saved.Paths.Count} past ratings, no calls.");
        if (saved.Paths.Count != history.Count)
        {
            Console.WriteLine($"(The saved model is used as it is: delete {dbPath} to build one from {history.Count} past ratings.)");
        }
    }
}
catch (RpmStageException ex)
{
    Console.Error.WriteLine($"Model error: {ex.Message} (run again to resume the build where it stopped)");
    return 1;
}

// Load the local embedding model now (a second or more on a busy machine), not inside the first turn, whose
// personalization has a 5 s budget and would otherwise go unpersonalized on a cold start.
await provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>().GenerateAsync(["warm-up"]);

bool personalized = false;
void Show(RpmPersonalization p)
{
    if (p.FailureReason is not null)
    {
        // The turn still goes to the model, unpersonalized: RPM never takes a turn down with it.
        Console.WriteLine($"  [rpm] this turn is not personalized: {p.FailureReason}");
        return;
    }

    personalized = true;
    Console.WriteLine($"  [rpm] added to this turn ({p.Mode}): {p.Usage.Calls} extra chat call(s), {p.Usage.TotalTokens} tokens");
    if (p.FallbackReason is not null)
    {
        Console.WriteLine($"  [rpm] {p.FallbackReason}");
    }

    if (p.MessageFeatures.Count > 0)
    {
        Console.WriteLine("  [rpm] message features: " + string.Join("; ", p.MessageFeatures.Select(f => $"{f.Name} -> {f.Factor ?? "no factor"}")));
    }

    Console.WriteLine("  [rpm] factors: " + string.Join(", ", p.UserModel!.Statistics.Select(s => $"{s.Factor.Name} (coverage {s.Coverage})")));
    foreach (RetrievedExample example in p.Examples)
    {
        Console.WriteLine($"  [rpm] retrieved {example.Similarity:F3}  {example.Path.Item.Input} -> {example.Path.Item.Output}");
    }
}

// The two ways to plug RPM into a chat: Microsoft.Extensions.AI middleware, or an Agent Framework context provider.
IChatClient personalizedChat = new ChatClientBuilder(chatClient)
    .UseRpm(rpm, o => { o.UserIdResolver = (_, _) => userId; o.Mode = mode; o.OnPersonalized = Show; })
    .Build();
var contextProvider = new RpmContextProvider(rpm, new RpmContextProviderOptions { UserId = userId, Mode = mode, OnPersonalized = Show });
var agent = new ChatClientAgent(chatClient, new ChatClientAgentOptions
{
    ChatOptions = new ChatOptions { Instructions = Instructions },
    AIContextProviders = [contextProvider],
});
AgentSession session = await agent.CreateSessionAsync();
List<ChatMessage> conversation = [];
string? lastQuestion = null;

Console.WriteLine();
Console.WriteLine(useAgent
    ? "Chat through a ChatClientAgent with RpmContextProvider."
    : "Chat through ChatClientBuilder.UseRpm().");
Console.WriteLine("Ask about movies (e.g. \"Would I like Heat (1995)? Genres: Action, Crime, Thriller.\"); \"/rate 4.5\" records your rating of the last one; an empty line ends.");
while (Console.ReadLine() is { } line && line.Length > 0)
{
    if (Console.IsInputRedirected)
    {
        Console.WriteLine("> " + line);
    }

    try
    {
        if (line.StartsWith("/rate", StringComparison.Ordinal))
        {
            string rating = line["/rate".Length..].Trim();
            if (rating.Length == 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Give the rating after /rate, e.g. \"/rate 4.5\" (from {task.Scale!.Minimum} to {task.Scale.Maximum} in steps of {task.Scale.Step})."));
                continue;
            }

            if (lastQuestion is null)
            {
                Console.WriteLine("Ask about a movie first.");
                continue;
            }

            // The user's own rating becomes one more history item of the model (two chat calls: its features and reasoning).
            UserModel updated = useAgent
                ? await contextProvider.RecordChoiceAsync(session, rating)
                : await rpm.AddHistoryAsync(userId, [new HistoryItem("chat-" + Guid.CreateVersion7().ToString("N"), lastQuestion, rating, DateTimeOffset.UtcNow)]);
            string recorded = updated.Paths.Last(p => p.Item.Input == lastQuestion).Item.Output;
            Console.WriteLine($"Recorded: \"{lastQuestion}\" -> {recorded}; the model now has {updated.Paths.Count} past ratings.");
            lastQuestion = null;
            continue;
        }

        personalized = false;
        string answer;
        if (useAgent)
        {
            answer = (await agent.RunAsync(line, session)).Text;
        }
        else
        {
            conversation.Add(new ChatMessage(ChatRole.User, line));
            ChatResponse response = await personalizedChat.GetResponseAsync(conversation, new ChatOptions { Instructions = Instructions });
            conversation.AddMessages(response);
            answer = response.Text;
        }

        if (!personalized)
        {
            Console.WriteLine("  [rpm] nothing added to this turn");
        }

        lastQuestion = line;
        Console.WriteLine("Assistant: " + answer);
    }
    catch (Exception ex) when (ex is RpmStageException or ArgumentException or InvalidOperationException)
    {
        // An argument error names the offending parameter for developers; the person at the prompt needs the sentence.
        Console.WriteLine("Error: " + (ex is ArgumentException { ParamName: { } name } ? ex.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : ex.Message));
    }
}

return 0;

static bool TryParseArguments(string[] args, out int user, out int history, out string db, out bool agent, out RpmPersonalizationMode mode, out string? error)
{
    (user, history, db, agent, mode, error) = (0, 20, "rpm-chat.db", false, RpmPersonalizationMode.QueryFeatures, null);
    for (int i = 0; i < args.Length; i++)
    {
        string? value = i + 1 < args.Length ? args[i + 1] : null;
        if (args[i] == "--agent")
        {
            agent = true;
        }
        else if (args[i] == "--embedding")
        {
            mode = RpmPersonalizationMode.MessageEmbedding;
        }
        else if (args[i] == "--user")
        {
            if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out user) || user is < 0 or > 399)
            {
                error = "--user takes a user index from 0 to 399 (the bundled data has 400 users).";
                return false;
            }

            i++;
        }
        else if (args[i] == "--history")
        {
            if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out history) || history < 1)
            {
                error = "--history takes a number of past ratings from 1.";
                return false;
            }

            i++;
        }
        else if (args[i] == "--db" && !string.IsNullOrWhiteSpace(value))
        {
            db = value;
            i++;
        }
        else
        {
            error = args[i] == "--db" ? "--db takes a file path." : $"Unknown argument '{args[i]}'.";
            return false;
        }
    }

    return true;
}



static (string UserId, List<HistoryItem> History) LoadUser(string dir, int index, int historySize)
{
    using JsonDocument questions = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "questions.json")));
    JsonElement question = questions.RootElement[index];
    var history = question.GetProperty("profile").EnumerateArray().TakeLast(historySize)
        .Select(p => new HistoryItem(p.GetProperty("id").GetString()!, p.GetProperty("text").GetString()!, p.GetProperty("score").GetString()!))
        .ToList();
    return (question.GetProperty("id").GetString()!, history);
}
