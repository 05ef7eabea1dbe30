using System.Text.Json;
using Npgsql;
using Quartz;

namespace Rpm.Storage.Tests.PostgreSql.Quartz;

/// <summary>
/// The smallest honest equivalent of <see cref="PostgresBuildQueue"/> on Quartz.NET's clustered ADO.NET job store
/// (PostgreSQL delegate, row locks inside transactions): one durable job per user with
/// [DisallowConcurrentExecution] and RequestsRecovery, whose run calls <see cref="RpmPipeline.BuildUserModelAsync"/>
/// over the PostgreSQL stores, so a recovered job resumes from the shared checkpoints. Quartz records neither a
/// failed run's reason nor a done run's model version on the job, so the job keeps both in its own job data
/// ([PersistJobDataAfterExecution]). One scheduler is one host; every host of a database shares <see cref="SchedulerName"/>.
/// </summary>
public sealed class QuartzBuildQueue : IAsyncDisposable
{
    public const string SchedulerName = "rpm-builds";
    private const string Group = "rpm-build";
    private const string PipelineKey = "rpm.pipeline";
    private readonly IScheduler _scheduler;

    private QuartzBuildQueue(IScheduler scheduler) => _scheduler = scheduler;

    public IScheduler Scheduler => _scheduler;

    /// <summary>Creates Quartz's tables from its own script (embedded here), once per database.</summary>
    public static async Task EnsureSchemaAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('qrtz_locks') IS NOT NULL;", connection))
        {
            if (await exists.ExecuteScalarAsync() is true)
            {
                return;
            }
        }

        await using Stream ddl = typeof(QuartzBuildQueue).Assembly.GetManifestResourceStream("QuartzTablesPostgres")!;
        await using var create = new NpgsqlCommand(await new StreamReader(ddl).ReadToEndAsync(), connection);
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>Starts a host: a clustered scheduler named <paramref name="instanceId"/> that builds with <paramref name="pipeline"/> (none: a producer that does not run jobs).</summary>
    public static async Task<QuartzBuildQueue> StartAsync(string connectionString, string instanceId, RpmPipeline? pipeline, TimeSpan? checkinInterval = null)
    {
        TimeSpan checkin = checkinInterval ?? TimeSpan.FromSeconds(1);
        IScheduler scheduler = await QuartzSchedulerBuilder.Create(q =>
        {
            q.ConfigureScheduler(o =>
            {
                o.InstanceName = SchedulerName;
                o.InstanceId = instanceId;
                o.IdleWaitTime = TimeSpan.FromSeconds(1);
            });
            q.UseDefaultThreadPool(1);

            // The store names the job's class with its assembly; the worker processes compile this file into theirs.
            q.UseTypeLoader(o => o.Map("Rpm.Storage.Tests.PostgreSql.Quartz.QuartzBuildQueue+BuildJob, Rpm.Storage.Tests", typeof(BuildJob)));
            q.UsePersistentStore(store =>
            {
                store.UseDataSource(instanceId);
                store.UsePostgres(connectionString);
                store.UseClustering(c =>
                {
                    c.CheckinInterval = checkin;
                    c.CheckinMisfireThreshold = checkin;
                });
                store.UseSystemTextJsonSerializer();
                store.ConfigureStore(o => o.DbRetryInterval = TimeSpan.FromSeconds(1));
            });
        }).BuildScheduler();
        var queue = new QuartzBuildQueue(scheduler);
        if (pipeline is not null)
        {
            scheduler.Context[PipelineKey] = pipeline;
            await scheduler.Start();
        }

        return queue;
    }

    /// <summary>Asks for a user's model to be built: replaces the user's job and fires it now.</summary>
    public async Task EnqueueAsync(string userId, RpmTask task, IEnumerable<HistoryItem> history)
    {
        IJobDetail job = JobBuilder.Create<BuildJob>()
            .WithIdentity(userId, Group)
            .StoreDurably()
            .RequestRecovery()
            .UsingJobData("task", JsonSerializer.Serialize(task, RpmJson.RpmTask))
            .UsingJobData("history", JsonSerializer.Serialize(task.ValidateHistory(history).ToList()))
            .UsingJobData("status", "pending")
            .Build();
        ITrigger now = TriggerBuilder.Create().ForJob(job).StartNow().Build();
        await _scheduler.ScheduleJob(job, [now], ScheduleJobOptions.Replacing);
    }

    /// <summary>Gets what the job's data says: status (pending, done, failed), the error of a failed build, the model version of a done one, and who ran it.</summary>
    public async Task<(string Status, string? Error, long? ModelVersion, string? Worker)?> GetJobAsync(string userId)
    {
        IJobDetail? job = await _scheduler.GetJobDetail(new JobKey(userId, Group));
        if (job is null)
        {
            return null;
        }

        JobDataMap data = job.JobDataMap;
        string? version = data.TryGetValue("modelVersion", out object? v) ? v as string : null;
        return ((string)data["status"]!, data.TryGetValue("error", out object? e) ? e as string : null, version is null ? null : long.Parse(version, System.Globalization.CultureInfo.InvariantCulture), data.TryGetValue("worker", out object? w) ? w as string : null);
    }

    /// <summary>Stops the host without waiting for its running build (what a host that is stopped does).</summary>
    public async ValueTask DisposeAsync() => await _scheduler.Shutdown(waitForJobsToComplete: false);

    /// <summary>Whether the error is the loss of the server or of the connection to it (a restart, a cut network), not the build's fault.</summary>
    private static bool IsConnectionLoss(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is PostgresException pg)
            {
                return pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03";
            }

            if (e is NpgsqlException or System.Net.Sockets.SocketException or IOException)
            {
                return true;
            }
        }

        return false;
    }

    [DisallowConcurrentExecution]
    [PersistJobDataAfterExecution]
    public sealed class BuildJob : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
        {
            var pipeline = (RpmPipeline)context.Scheduler.Context[PipelineKey]!;
            JobDataMap data = context.JobDetail.JobDataMap;
            RpmTask task = JsonSerializer.Deserialize((string)data["task"]!, RpmJson.RpmTask)!;
            List<HistoryItem> history = JsonSerializer.Deserialize<List<HistoryItem>>((string)data["history"]!)!;
            data["worker"] = context.Scheduler.SchedulerInstanceId;
            try
            {
                UserModel model = await pipeline.BuildUserModelAsync(context.JobDetail.Key.Name, task, history, cancellationToken);
                data["status"] = "done";
                data["modelVersion"] = model.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
                data.Remove("error");
            }
            catch (Exception ex) when (IsConnectionLoss(ex) && !cancellationToken.IsCancellationRequested)
            {
                // Not the build's fault: run again on this host, with backoff, resuming from the checkpoints.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 << Math.Min(context.RefireCount, 5), 2000)), cancellationToken);
                throw new JobExecutionException(ex) { RefireImmediately = true };
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                data["status"] = "failed";
                data["error"] = $"{ex.GetType().Name}: {ex.Message}";
            }
        }
    }
}
