using System.Globalization;
using Microsoft.Agents.AI;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Rpm.Benchmarks.Turns;

/// <summary>
/// The <c>turn-reads</c> command: what one warm turn reads from the store, as exact counts (not timed). For each store
/// and history size it saves the same synthetic model as <see cref="TurnOverheadBenchmarks"/>, runs one warm-up turn and
/// then ten turns of each kind with distinct messages through a store wrapper that counts calls, and prints the store
/// calls per turn and the bytes they read: a model read is its row (version, <c>model_json</c>, <c>embeddings</c>,
/// <c>checksum</c>, measured in the database with <c>length</c> / <c>octet_length</c>), an entity-tag read the tag.
/// </summary>
public static class TurnReadsReport
{
    private const string UserId = "turnreads";
    private const int Turns = 10;

    public static async Task<int> RunAsync(string[] args)
    {
        int[] sizes = args.Length > 0 ? [.. args.Select(a => int.Parse(a, CultureInfo.InvariantCulture))] : [100, 1000, 5000];
        Console.WriteLine("| store | history items | row bytes (version + model_json + embeddings + checksum) | turn | store calls per turn | bytes read per turn |");
        Console.WriteLine("|---|---:|---:|---|---|---:|");
        foreach (TurnStore store in TurnStores.Available(Console.Out))
        {
            foreach (int items in sizes)
            {
                await ReportAsync(store, items).ConfigureAwait(false);
            }
        }

        return 0;
    }

    private static async Task ReportAsync(TurnStore store, int items)
    {
        string? folder = store == TurnStore.Sqlite ? Directory.CreateTempSubdirectory("rpm-turnreads-").FullName : null;
        NpgsqlDataSource? postgres = store == TurnStore.PostgreSql ? NpgsqlDataSource.Create(TurnStores.PostgresConnectionString!) : null;
        try
        {
            IUserModelStore real = store switch
            {
                TurnStore.Sqlite => new SqliteUserModelStore(Path.Combine(folder!, "rpm.db")),
                TurnStore.PostgreSql => new PostgresUserModelStore(postgres!),
                _ => new InMemoryUserModelStore(),
            };
            (IUserModelStore counted, CountingStore counter) = CountingStore.Wrap(real);
            var model = new TurnModel(TimeSpan.Zero, SyntheticUsers.Factors[0]);
            var services = new ServiceCollection();
            services.AddEmbeddingGenerator(new FixedEmbeddingGenerator(SyntheticUsers.QueryVector()));
            services.AddChatClient(model).UseRpm(o => o.UserIdResolver = (_, _) => UserId);
            services.AddKeyedChatClient("message-embedding", model).UseRpm(o =>
            {
                o.Mode = RpmPersonalizationMode.MessageEmbedding;
                o.UserIdResolver = (_, _) => UserId;
            });
            services.AddRpm().UseUserModelStore(_ => counted);
            await using ServiceProvider provider = services.BuildServiceProvider();
            RpmPipeline pipeline = provider.GetRequiredService<RpmPipeline>();
            await real.DeleteAsync(UserId).ConfigureAwait(false);
            await real.SaveAsync(SyntheticUsers.Create(UserId, items), expectedVersion: null).ConfigureAwait(false);
            long rowBytes = await RowBytesAsync(store, folder, postgres).ConfigureAwait(false);

            IChatClient queryFeatures = provider.GetRequiredService<IChatClient>();
            IChatClient messageEmbedding = provider.GetRequiredKeyedService<IChatClient>("message-embedding");
            var agent = new ChatClientAgent(model, new ChatClientAgentOptions
            {
                AIContextProviders = [new RpmContextProvider(pipeline, new RpmContextProviderOptions { UserId = UserId })],
            });
            long turn = 0;
            (string Name, Func<Task> Run)[] kinds =
            [
                ("UseRpm, MessageEmbedding", () => messageEmbedding.GetResponseAsync(TurnModel.Message(++turn))),
                ("UseRpm, QueryFeatures", () => queryFeatures.GetResponseAsync(TurnModel.Message(++turn))),
                ("RpmContextProvider agent run", async () => await agent.RunAsync(TurnModel.Message(++turn), await agent.CreateSessionAsync())),
                ("RespondAsync", () => pipeline.RespondAsync(UserId, new RpmQuery(TurnModel.Message(++turn)))),
            ];
            foreach ((string name, Func<Task> run) in kinds)
            {
                await run().ConfigureAwait(false);
                counter.Calls.Clear();
                Interlocked.Exchange(ref counter.StringBytes, 0);
                for (int i = 0; i < Turns; i++)
                {
                    await run().ConfigureAwait(false);
                }

                int reads = counter.Calls.GetValueOrDefault("GetAsync");
                string calls = string.Join(", ", counter.Calls.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {(double)c.Value / Turns:0.##}"));
                double bytes = store == TurnStore.InMemory ? 0 : ((double)reads * rowBytes + counter.StringBytes) / Turns;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {store} | {items:N0} | {(store == TurnStore.InMemory ? "- (the saved instance)" : rowBytes.ToString("N0", CultureInfo.InvariantCulture))} | {name} | {(calls.Length == 0 ? "none" : calls)} | {bytes:N0} |"));
            }

            if (store == TurnStore.PostgreSql)
            {
                await real.DeleteAsync(UserId).ConfigureAwait(false);
            }
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DisposeAsync().ConfigureAwait(false);
            }

            TurnStores.Clean(folder);
        }
    }

    private static async Task<long> RowBytesAsync(TurnStore store, string? folder, NpgsqlDataSource? postgres)
    {
        const string Columns = "8 + {0}(model_json) + {0}(embeddings) + {0}(checksum)";
        if (store == TurnStore.Sqlite)
        {
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(folder!, "rpm.db")}");
            await connection.OpenAsync().ConfigureAwait(false);
            await using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "SELECT 8 + length(CAST(model_json AS BLOB)) + length(embeddings) + length(checksum) FROM rpm_user_models WHERE user_id = $user;";
            command.Parameters.AddWithValue("$user", UserId);
            return (long)(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
        }

        if (store == TurnStore.PostgreSql)
        {
            await using NpgsqlCommand command = postgres!.CreateCommand(
                $"SELECT ({string.Format(CultureInfo.InvariantCulture, Columns, "octet_length")})::bigint FROM rpm_user_models WHERE user_id = @user;");
            command.Parameters.AddWithValue("user", UserId);
            return (long)(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
        }

        return 0;
    }
}
