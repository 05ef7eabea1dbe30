using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rpm;
using Rpm.Benchmarks.Turns;

namespace Rpm.Benchmarks.Load;

/// <summary>
/// The <c>load</c> command: a minimal API on Kestrel (127.0.0.1, a random port) that personalizes each request with
/// <c>AddChatClient(model).UseRpm(...)</c>, the user named by a request header, over SQLite or PostgreSQL, with
/// <see cref="Users"/> users whose synthetic models are saved first; then <see cref="Clients"/> concurrent client loops
/// send <see cref="Turns"/> turns over those users, first to an endpoint without RPM (the same 50 ms model), then to the
/// one with RPM, in the same process. The model checks every personalized request: the instructions RPM added must
/// carry the requesting user's data and no other user's. Bounded, loopback only; it stops by itself.
/// </summary>
public static partial class LoadRun
{
    private const string UserHeader = "X-Rpm-User";
    private const int Users = 200;
    private const int Turns = 2000;
    private const int Clients = 32;
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(50);

    public static async Task<int> RunAsync(string[] args)
    {
        TurnStore store = TurnStore.Sqlite;
        RpmPersonalizationMode mode = RpmPersonalizationMode.QueryFeatures;
        long? cacheBytes = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--store" when i + 1 < args.Length:
                    store = args[++i] switch
                    {
                        "sqlite" => TurnStore.Sqlite,
                        "postgres" or "postgresql" => TurnStore.PostgreSql,
                        string other => throw new ArgumentException($"Unknown store '{other}': use sqlite or postgres."),
                    };
                    break;
                case "--mode" when i + 1 < args.Length:
                    mode = args[++i] switch
                    {
                        "query-features" => RpmPersonalizationMode.QueryFeatures,
                        "message-embedding" => RpmPersonalizationMode.MessageEmbedding,
                        string other => throw new ArgumentException($"Unknown mode '{other}': use query-features or message-embedding."),
                    };
                    break;
                case "--cache-mib" when i + 1 < args.Length:
                    cacheBytes = long.Parse(args[++i], CultureInfo.InvariantCulture) * 1024 * 1024;
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: load [--store sqlite|postgres] [--mode query-features|message-embedding] [--cache-mib N]");
            }
        }

        if (store == TurnStore.PostgreSql && TurnStores.PostgresConnectionString is null)
        {
            Console.Error.WriteLine($"load --store postgres needs {TurnStores.PostgresVariable} set to a PostgreSQL connection string.");
            return 2;
        }

        var model = new TurnModel(Latency, SyntheticUsers.Factors[0]);
        var accessor = new HttpContextAccessor();
        var check = new LeakCheck();
        model.OnApplicationRequest = (_, options) =>
        {
            HttpContext? context = accessor.HttpContext;
            if (context?.Request.Path == "/chat")
            {
                check.Inspect(context.Request.Headers[UserHeader].ToString(), options?.Instructions);
            }
        };

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton<IHttpContextAccessor>(accessor);
        builder.Services.AddEmbeddingGenerator(new FixedEmbeddingGenerator(SyntheticUsers.QueryVector()));
        builder.Services.AddChatClient(model).UseRpm(o =>
        {
            o.Mode = mode;
            o.UserIdResolver = (_, _) => accessor.HttpContext?.Request.Headers[UserHeader].ToString();
        });
        string? folder = TurnStores.Use(builder.Services.AddRpm(o => o.UserModelCacheSize = cacheBytes ?? o.UserModelCacheSize), store);
        await using WebApplication app = builder.Build();
        app.MapPost("/chat", (HttpContext context) => AnswerAsync(context, context.RequestServices.GetRequiredService<IChatClient>()));
        app.MapPost("/plain", (HttpContext context) => AnswerAsync(context, model));

        string[] users = [.. Enumerable.Range(0, Users).Select(k => string.Create(CultureInfo.InvariantCulture, $"load-{k:000}"))];
        try
        {
            RpmPipeline pipeline = app.Services.GetRequiredService<RpmPipeline>();
            var seeding = Stopwatch.StartNew();
            long items = 0;
            for (int k = 0; k < users.Length; k++)
            {
                int count = 100 + ((k % 10) * 100);
                items += count;
                await pipeline.Store.DeleteAsync(users[k]).ConfigureAwait(false);
                await pipeline.Store.SaveAsync(SyntheticUsers.Create(users[k], count), expectedVersion: null).ConfigureAwait(false);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"store {store}, mode {mode}: {users.Length} users, {items:N0} history items (100-1,000 a user) saved in {seeding.Elapsed.TotalSeconds:0.0} s; user model cache {app.Services.GetRequiredService<IOptions<RpmOptions>>().Value.UserModelCacheSize / (1024 * 1024)} MiB"));

            await app.StartAsync().ConfigureAwait(false);
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Clients }) { BaseAddress = new Uri(address) };
            Console.WriteLine($"listening on {address}; {Clients} concurrent clients, {Turns} turns per phase over {Users} users, model latency {Latency.TotalMilliseconds} ms");

            var random = new Random(42);
            string[] order = [.. Enumerable.Range(0, Turns).Select(_ => users[random.Next(users.Length)])];
            long turn = 0;
            Phase plainWarm = await RunPhaseAsync(http, "/plain", users, () => Interlocked.Increment(ref turn)).ConfigureAwait(false);
            Phase plain = await RunPhaseAsync(http, "/plain", order, () => Interlocked.Increment(ref turn)).ConfigureAwait(false);
            Phase rpmWarm = await RunPhaseAsync(http, "/chat", users, () => Interlocked.Increment(ref turn)).ConfigureAwait(false);
            Phase rpm = await RunPhaseAsync(http, "/chat", order, () => Interlocked.Increment(ref turn)).ConfigureAwait(false);
            await app.StopAsync().ConfigureAwait(false);

            Console.WriteLine($"warm-up (one turn per user, not counted): plain {plainWarm.Errors} errors, RPM {rpmWarm.Errors} errors");
            Console.WriteLine();
            Console.WriteLine("| phase | turns | errors | p50 ms | p90 ms | p99 ms | max ms | turns/s |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            Console.WriteLine(plain.Row("without RPM (the bare 50 ms model)"));
            Console.WriteLine(rpm.Row($"UseRpm(), {mode}, {store}"));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"added latency, RPM minus the run without RPM: p50 {rpm.Percentile(50) - plain.Percentile(50):0.0} ms, p99 {rpm.Percentile(99) - plain.Percentile(99):0.0} ms; RPM minus the model's 50 ms: p50 {rpm.Percentile(50) - Latency.TotalMilliseconds:0.0} ms, p99 {rpm.Percentile(99) - Latency.TotalMilliseconds:0.0} ms"));
            Console.WriteLine($"personalized requests checked (warm-up and measured): {check.Checked}; carrying another user's data: {check.Foreign}; without the requesting user's data: {check.Unpersonalized}");
            return rpm.Errors + plain.Errors + check.Foreign + check.Unpersonalized == 0 ? 0 : 1;
        }
        finally
        {
            if (store == TurnStore.PostgreSql)
            {
                RpmPipeline pipeline = app.Services.GetRequiredService<RpmPipeline>();
                foreach (string user in users)
                {
                    await pipeline.Store.DeleteAsync(user).ConfigureAwait(false);
                }
            }

            TurnStores.Clean(folder);
        }
    }

    private static async Task AnswerAsync(HttpContext context, IChatClient client)
    {
        using var reader = new StreamReader(context.Request.Body);
        string message = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        ChatResponse response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, message)], new ChatOptions { Instructions = "You are a film critic." }, context.RequestAborted).ConfigureAwait(false);
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(response.Text, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task<Phase> RunPhaseAsync(HttpClient http, string path, string[] order, Func<long> nextTurn)
    {
        var latencies = new double[order.Length];
        int next = -1;
        int errors = 0;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < order.Length)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(TurnModel.Message(nextTurn())) };
                request.Headers.Add(UserHeader, order[i]);
                long start = Stopwatch.GetTimestamp();
                try
                {
                    using HttpResponseMessage response = await http.SendAsync(request).ConfigureAwait(false);
                    string body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                    if (!response.IsSuccessStatusCode || body != TurnModel.Answer)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }

                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }))).ConfigureAwait(false);
        return new Phase(latencies, errors, wall.Elapsed);
    }

    private sealed record Phase(double[] Latencies, int Errors, TimeSpan Wall)
    {
        private readonly double[] _sorted = [.. Latencies.Order()];

        public double Percentile(double p) => _sorted[Math.Clamp((int)Math.Ceiling(p / 100 * _sorted.Length) - 1, 0, _sorted.Length - 1)];

        public string Row(string name) => string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {Latencies.Length:N0} | {Errors} | {Percentile(50):0.0} | {Percentile(90):0.0} | {Percentile(99):0.0} | {_sorted[^1]:0.0} | {Latencies.Length / Wall.TotalSeconds:0.0} |");
    }

    /// <summary>Counts personalized requests whose instructions name another user's items, or none of the requester's.</summary>
    private sealed partial class LeakCheck
    {
        private int _checked;
        private int _foreign;
        private int _unpersonalized;

        public int Checked => Volatile.Read(ref _checked);

        public int Foreign => Volatile.Read(ref _foreign);

        public int Unpersonalized => Volatile.Read(ref _unpersonalized);

        public void Inspect(string user, string? instructions)
        {
            Interlocked.Increment(ref _checked);
            bool own = false;
            bool other = false;
            foreach (Match match in TagRegex().Matches(instructions ?? string.Empty))
            {
                if (match.Groups[1].Value == user)
                {
                    own = true;
                }
                else
                {
                    other = true;
                }
            }

            if (other)
            {
                Interlocked.Increment(ref _foreign);
            }

            if (!own)
            {
                Interlocked.Increment(ref _unpersonalized);
            }
        }

        [GeneratedRegex(@"usr-(load-\d{3})-")]
        private static partial Regex TagRegex();
    }
}
