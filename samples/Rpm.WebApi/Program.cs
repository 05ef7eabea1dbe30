using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;
using Rpm;

var builder = WebApplication.CreateBuilder(args);

// The chat model: any OpenAI-compatible endpoint, from configuration (Rpm:Chat:Endpoint, Rpm:Chat:Model, and the key in
// Rpm:Chat:ApiKey from user secrets or the environment, never in code). RPM's own stage calls use the same client;
// UseRpm() personalizes the app's chat turns for the user a request names.
builder.Services.AddRpmOpenAIChatClient(o => builder.Configuration.GetSection("Rpm:Chat").Bind(o))
    .UseRpm(o => o.PersonalizationTimeout = TimeSpan.FromSeconds(3))  // an answer cache goes after this: .UseDistributedCache()
    .UseRpmHealthObservation();  // the app's own calls tell the chat health check the endpoint answers, without a probe
builder.Services.AddMiniLmEmbeddingGenerator();

// User models, build checkpoints and the build queue: in PostgreSQL when ConnectionStrings:rpm is set (every host of
// the app shares them, and each user is built by one host at a time), else in one SQLite file (one host). Builds run in
// a hosted BackgroundService either way, paid once per user and history.
RpmBuilder rpm = builder.Services.AddRpm();
if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("rpm")))
{
    rpm.UsePostgresStore(connectionStringName: "rpm", configureQueue: o => builder.Configuration.GetSection("Rpm:Queue").Bind(o));
}
else
{
    rpm.UseSqliteStore(builder.Configuration["Rpm:Store"] ?? "data/rpm.db");
}

rpm.AddBackgroundBuilds();

// Health: the chat endpoint (the app's last call, or one short probe kept for 5 minutes), the embeddings, the store and its schema.
builder.Services.AddHealthChecks()
    .AddRpmChatCheck(configure: o => builder.Configuration.GetSection("Rpm:Health:Chat").Bind(o))
    .AddRpmEmbeddingCheck()
    .AddRpmStoreCheck();

// RPM's exceptions as RFC 9457 problem details: 400 naming the bad item, 409, 502, 503 with Retry-After.
builder.Services.AddRpmProblemDetails();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();  // an empty 400 or 404 (a body ASP.NET Core could not read, say) gets a problem body too
app.MapHealthChecks("/health");

// The task every user's history belongs to: ratings of movies from 0.5 to 5 stars.
RpmTask task = RpmTask.Rating("movies", "Predict the rating, from 0.5 to 5 stars in steps of 0.5, that the user gives a movie.", new RatingScale(0.5, 5, 0.5));

// In a real app the user comes from authentication (HttpContext.User), not from the route.
app.MapPost("/users/{userId}/history", async (string userId, HistoryItem[] history, RpmBuildQueue queue, CancellationToken ct) =>
{
    // Validated here (400 naming the item), built in the background: 2N + 1 model calls, paid once per user and history.
    RpmBuildJob job = await queue.EnqueueAsync(userId, task, history, ct);
    return Results.Accepted($"/users/{userId}/jobs/{job.Id}", job);
});

// A job is read under its user, and only there: a job id alone must not show another user's job (ids are guessable).
app.MapGet("/users/{userId}/jobs/{id}", async (string userId, string id, RpmBuildQueue queue, CancellationToken ct) =>
    await queue.GetJobAsync(id, ct) is { } job && job.UserId == userId ? Results.Ok(job) : Results.NotFound());  // Pending, Running, Succeeded, Failed (Error)

app.MapPost("/users/{userId}/chat", async (string userId, ChatTurn turn, IChatClient chat, CancellationToken ct) =>
{
    if (string.IsNullOrWhiteSpace(turn.Message))
    {
        return Results.Problem("The turn has no message.", statusCode: StatusCodes.Status400BadRequest);
    }

    // A user without a model, or a failure while personalizing, gets an unpersonalized answer: RPM is optional.
    ChatResponse reply = await chat.GetResponseAsync(turn.Message, ForUser(userId), ct);
    return Results.Ok(new ChatReply(reply.Text));
});

app.MapPost("/users/{userId}/chat/stream", async (string userId, ChatTurn turn, IChatClient chat, CancellationToken ct) =>
{
    if (string.IsNullOrWhiteSpace(turn.Message))
    {
        return Results.Problem("The turn has no message.", statusCode: StatusCodes.Status400BadRequest);
    }

    // The first update is awaited before the response starts, so an endpoint that is down is still a 503 problem.
    IAsyncEnumerator<ChatResponseUpdate> updates = chat.GetStreamingResponseAsync(turn.Message, ForUser(userId), ct).GetAsyncEnumerator(ct);
    bool any = await updates.MoveNextAsync();
    return Results.ServerSentEvents(Texts(updates, any), eventType: "text");
});

app.MapGet("/users/{userId}", async (string userId, RpmPipeline rpm, CancellationToken ct) =>
    await rpm.GetUserModelAsync(userId, ct) is { } model
        ? Results.Ok(new UserSummary(
            model.UserId,
            model.Version,
            model.Task.Name,
            model.Paths.Count,
            model.Statistics.Count,
            [.. model.Statistics.Select(s => new FactorSummary(s.Factor.Name, s.Factor.Description, s.Coverage, s.MeanRating))],
            model.UpdatedAt))
        : Results.NotFound());

app.MapGet("/users/{userId}/export", async (string userId, RpmPipeline rpm, CancellationToken ct) =>
    await rpm.ExportUserAsync(userId, ct) is { } json ? Results.File(json, "application/json", $"{userId}.json") : Results.NotFound());

// A retracted rating costs no model call; a changed one, the item's new reasoning path (one call), so both run inline.
app.MapDelete("/users/{userId}/history/{itemId}", async (string userId, string itemId, RpmPipeline rpm, CancellationToken ct) =>
    !Has(await rpm.GetUserModelAsync(userId, ct), itemId) ? Results.NotFound()
    : Results.Ok(new ModelVersion((await rpm.RemoveHistoryAsync(userId, [itemId], ct)).Version)));

app.MapPut("/users/{userId}/history/{itemId}", async (string userId, string itemId, HistoryItem item, RpmPipeline rpm, CancellationToken ct) =>
    item.Id != itemId ? Results.Problem($"The item's id '{item.Id}' is not '{itemId}'.", statusCode: StatusCodes.Status400BadRequest)
    : !Has(await rpm.GetUserModelAsync(userId, ct), itemId) ? Results.NotFound()
    : Results.Ok(new ModelVersion((await rpm.CorrectHistoryAsync(userId, [item], ct)).Version)));

app.MapDelete("/users/{userId}", async (string userId, RpmBuildQueue queue, RpmPipeline rpm, CancellationToken ct) =>
    await queue.EraseUserAsync(rpm, userId, ct) ? Results.NoContent() : Results.NotFound());  // model, checkpoints, jobs (a running build stops), caches

// Load the local embedding model at start, not inside the first chat turn's personalization budget (3 s above).
await app.Services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>().GenerateAsync(["warm-up"]);
app.Run();

static bool Has(UserModel? model, string itemId) => model?.Paths.Any(p => p.Item.Id == itemId) == true;

static ChatOptions ForUser(string userId) => new() { AdditionalProperties = new() { [RpmChatClient.UserIdKey] = userId } };

static async IAsyncEnumerable<string> Texts(IAsyncEnumerator<ChatResponseUpdate> updates, bool any)
{
    await using (updates)
    {
        for (bool more = any; more; more = await updates.MoveNextAsync())
        {
            if (updates.Current.Text is { Length: > 0 } text)
            {
                yield return text;
            }
        }
    }
}

record ChatTurn(string? Message);

record ChatReply(string Reply);

record ModelVersion(long Version);

record FactorSummary(string Name, string Description, int Coverage, double? MeanRating);

record UserSummary(string UserId, long Version, string Task, int HistoryItems, int Factors, FactorSummary[] FactorStatistics, DateTimeOffset UpdatedAt);

/// <summary>The sample's entry point, public for the end-to-end tests (<c>WebApplicationFactory&lt;Program&gt;</c>).</summary>
public partial class Program;
