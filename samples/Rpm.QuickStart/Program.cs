// Rpm quick start: build one MovieLens user's model from the bundled data and answer that user's next query
// with a real chat model at any OpenAI-compatible endpoint (OpenAI, Ollama /v1, vLLM, llama.cpp server).
//
//   RPM_ENDPOINT=http://localhost:11434/v1 RPM_MODEL=llama3.1 dotnet run --project samples/Rpm.QuickStart
//
// Settings (environment variables): RPM_ENDPOINT (base URL, default https://api.openai.com/v1 when RPM_API_KEY is
// set), RPM_MODEL (default gpt-4o-mini), RPM_API_KEY (optional for local servers), RPM_USER (a user index, default 0),
// RPM_HISTORY (how many of the user's latest ratings to build from, default 20).
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rpm;
using Rpm.Embeddings.MiniLM;
using Rpm.Samples;

string? apiKey = Environment.GetEnvironmentVariable("RPM_API_KEY");
string? endpoint = Environment.GetEnvironmentVariable("RPM_ENDPOINT") ?? (apiKey is null ? null : "https://api.openai.com/v1");
string model = Environment.GetEnvironmentVariable("RPM_MODEL") ?? "gpt-4o-mini";
if (endpoint is not null && !(Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? endpointUri) && endpointUri.Scheme is "http" or "https"))
{
    Console.Error.WriteLine($"RPM_ENDPOINT '{endpoint}' is not an http(s) URL; e.g. http://localhost:11434/v1.");
    return 1;
}

if (!int.TryParse(Environment.GetEnvironmentVariable("RPM_USER") ?? "0", NumberStyles.Integer, CultureInfo.InvariantCulture, out int userIndex) || userIndex is < 0 or > 399
    || !int.TryParse(Environment.GetEnvironmentVariable("RPM_HISTORY") ?? "20", NumberStyles.Integer, CultureInfo.InvariantCulture, out int historySize) || historySize < 1)
{
    Console.Error.WriteLine("RPM_USER must be a user index from 0 to 399 (the bundled data has 400 users), RPM_HISTORY a number of ratings from 1.");
    return 1;
}

string dataDir = SampleSupport.FindData();
var (userId, history, query, gold) = LoadUser(Path.Combine(dataDir, "movielens-ratings"), userIndex, historySize);
Console.WriteLine($"User {userId}: {history.Count} past ratings from MovieLens (data: {dataDir}).");
Console.WriteLine($"Building the user model costs {2 * history.Count + 1} chat calls; answering costs 2.");

if (endpoint is null || !await SampleSupport.IsReachableAsync(endpoint, apiKey))
{
    Console.WriteLine();
    Console.WriteLine(endpoint is null
        ? "No chat endpoint is configured, so nothing was sent to a model."
        : $"The chat endpoint {endpoint} did not answer, so nothing was sent to a model.");
    Console.WriteLine("Set RPM_ENDPOINT to an OpenAI-compatible base URL and RPM_MODEL to a model it serves, for example:");
    Console.WriteLine("  RPM_ENDPOINT=http://localhost:11434/v1 RPM_MODEL=llama3.1 dotnet run --project samples/Rpm.QuickStart   (Ollama)");
    Console.WriteLine("  RPM_API_KEY=sk-... RPM_MODEL=gpt-4o-mini dotnet run --project samples/Rpm.QuickStart                    (OpenAI)");
    return 0;
}

// The ten lines a host app needs: a chat client, an embedding generator, AddRpm. Rpm.OpenAI's client retries
// rate limits (honouring Retry-After up to 60 s in a build, 5 s in a query) and server errors with jittered
// backoff (patiently in a build, quickly in a query), and reports errors in the server's own words.
var services = new ServiceCollection();
services.AddRpmOpenAIChatClient(o =>
{
    o.Endpoint = new Uri(endpoint);
    o.Model = model;
    o.ApiKey = apiKey;
    o.OnRetry = retry => Console.WriteLine($"  ({retry})");
});
services.AddMiniLmEmbeddingGenerator();
services.AddRpm(o => o.ChatOptions = new ChatOptions { Temperature = 0 });
await using ServiceProvider provider = services.BuildServiceProvider();
RpmPipeline rpm = provider.GetRequiredService<RpmPipeline>();

RpmTask task = RpmTask.Rating(
    "movielens-rating",
    "Predict the rating, from 0.5 to 5 stars in steps of 0.5, that the user gives a movie, from the movie's title and genres.",
    new RatingScale(0.5, 5, 0.5));
UserModel user;
RpmResponse response;
try
{
    user = await rpm.BuildUserModelAsync(userId, task, history);
    Console.WriteLine($"Built: {user.Statistics.Count} factors ({string.Join(", ", user.Factors)}), {user.BuildUsage.Calls} calls, {user.BuildUsage.TotalTokens} tokens; {user.Diagnostics}.");
    response = await rpm.RespondAsync(user, new RpmQuery(query, id: userId));
}
catch (RpmStageException ex)
{
    // The stage, the item and the endpoint's own words; the build checkpoints live in memory here (a storage package
    // keeps them across runs, see "Storing user models" in the README).
    Console.Error.WriteLine($"Model error: {ex.Message}");
    return 1;
}

Console.WriteLine();
Console.WriteLine($"Query: {query}");
Console.WriteLine($"Answer: {response.Answer}   (the user's real rating: {gold})");
Console.WriteLine($"Why: {response.Rationale}");
Console.WriteLine("Most similar past reasoning:");
foreach (RetrievedExample example in response.Examples)
{
    Console.WriteLine($"  {example.Similarity:F3}  {example.Path.Item.Input} -> {example.Path.Item.Output}");
}

return 0;



static (string UserId, List<HistoryItem> History, string Query, string Gold) LoadUser(string dir, int index, int historySize)
{
    using JsonDocument questions = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "questions.json")));
    using JsonDocument outputs = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "outputs.json")));
    JsonElement question = questions.RootElement[index];
    string id = question.GetProperty("id").GetString()!;
    string gold = outputs.RootElement.GetProperty("golds").EnumerateArray().First(g => g.GetProperty("id").GetString() == id).GetProperty("output").GetString()!;
    var history = question.GetProperty("profile").EnumerateArray().TakeLast(historySize)
        .Select(p => new HistoryItem(p.GetProperty("id").GetString()!, p.GetProperty("text").GetString()!, p.GetProperty("score").GetString()!))
        .ToList();
    return (id, history, question.GetProperty("input").GetString()!, gold);
}
