using Npgsql;
using Rpm;
using Rpm.Storage.TestWorker;
using Rpm.Storage.Tests.PostgreSql.Quartz;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

// Usage (one line of output per event, flushed at once; the parent test reads them):
//   sqlite-build <db-file> <user> <history-count> <block-after-calls>
//       builds the user (one call at a time); after <block-after-calls> successful calls the next call blocks forever
//       and "BLOCKED <n>" is printed, for the parent to kill this process. -1 never blocks; then "BUILT <version> <calls>".
//   pg-worker <connection-string> <worker-name> <block-after-calls>
//       prints "READY", waits for a line on standard input, then serves the build queue until nothing is claimable
//       and prints "DONE <calls> <jobs>"; with <block-after-calls> >= 0 it blocks like sqlite-build ("BLOCKED <n> <user>").
//   quartz-worker <connection-string> <instance-id> <block-after-calls>
//       the same host on Quartz.NET (QuartzBuildQueue, the comparison in QUARTZ-COMPARISON.md): prints "READY", waits
//       for a line, starts its clustered scheduler and prints "STARTED", then on the next line shuts down (waiting for
//       its running build) and prints "DONE <calls>"; it blocks like pg-worker.
Console.Out.Flush();
string mode = args.Length > 0 ? args[0] : string.Empty;
int blockAfter = int.Parse(args[^1], System.Globalization.CultureInfo.InvariantCulture);
int calls = 0;
var chat = new FakeChatClient
{
    Gate = async (request, ct) =>
    {
        if (blockAfter >= 0 && Volatile.Read(ref calls) >= blockAfter)
        {
            Console.WriteLine($"BLOCKED {Volatile.Read(ref calls)} {request.ItemId}");
            await Task.Delay(Timeout.Infinite, ct);
        }
    },
};

// Count only answered calls: the fake answers once the gate lets the request through.
var counting = new CountingChatClient(chat, () => Interlocked.Increment(ref calls));
var options = new RpmOptions { MaxConcurrency = 1 };
using var embeddings = new HashingEmbeddingGenerator();

switch (mode)
{
    case "sqlite-build":
    {
        string path = args[1];
        string user = args[2];
        int count = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
        RpmPipeline pipeline = Create(new SqliteUserModelStore(path), new SqliteBuildCheckpointStore(path));
        UserModel model = await pipeline.BuildUserModelAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(count));
        Console.WriteLine($"BUILT {model.Version} {Volatile.Read(ref calls)}");
        return 0;
    }

    case "pg-worker":
    {
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(args[1]);
        var queue = new PostgresBuildQueue(dataSource, new PostgresBuildQueueOptions { WorkerName = args[2], RetryDelay = TimeSpan.Zero });
        RpmPipeline pipeline = Create(new PostgresUserModelStore(dataSource), new PostgresBuildCheckpointStore(dataSource));
        await PostgresRpmSchema.MigrateAsync(dataSource);
        Console.WriteLine("READY");
        _ = Console.ReadLine();
        int jobs = await queue.ProcessPendingAsync(pipeline);
        Console.WriteLine($"DONE {Volatile.Read(ref calls)} {jobs}");
        return 0;
    }

    case "quartz-worker":
    {
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(args[1]);
        RpmPipeline pipeline = Create(new PostgresUserModelStore(dataSource), new PostgresBuildCheckpointStore(dataSource));
        Console.WriteLine("READY");
        _ = Console.ReadLine();
        await using (QuartzBuildQueue host = await QuartzBuildQueue.StartAsync(args[1], args[2], pipeline))
        {
            Console.WriteLine("STARTED");
            _ = Console.ReadLine();
            await host.Scheduler.Shutdown(waitForJobsToComplete: true);
        }

        Console.WriteLine($"DONE {Volatile.Read(ref calls)}");
        return 0;
    }

    default:
        Console.Error.WriteLine($"Unknown mode '{mode}'.");
        return 2;
}

RpmPipeline Create(IUserModelStore store, IBuildCheckpointStore checkpoints) =>
    new(counting, new FeatureExtractor(counting, options), new FactorConstructor(counting, options), new StatisticsBuilder(), new ReasoningPathBuilder(counting, options),
        new FeatureRetriever(embeddings, options), store, checkpoints, options);
