namespace Rpm;

/// <summary>
/// A job store whose jobs are built by workers of its own, shared by every host that uses the store (the PostgreSQL
/// build queue: <c>UsePostgresStore</c>). When the registered <see cref="IRpmBuildJobStore"/> implements this
/// interface, <see cref="RpmBuildService"/> runs its workers instead of claiming jobs one by one itself.
/// </summary>
public interface IRpmBuildJobRunner
{
    /// <summary>Builds the store's jobs until <paramref name="stoppingToken"/> is cancelled, one user at a time per worker.</summary>
    /// <param name="pipeline">The pipeline that builds; its stores are those the job store belongs to.</param>
    /// <param name="workers">How many users this host builds at once (<see cref="RpmBuildServiceOptions.MaxConcurrentBuilds"/>), at least 1.</param>
    /// <param name="stoppingToken">Stops the workers; a build in progress stays pending and resumes from its checkpoints.</param>
    /// <returns>A task that completes when the workers have stopped.</returns>
    /// <exception cref="RpmStoreException">The store cannot be used in a way waiting cannot fix (the message says what to change).</exception>
    Task RunAsync(RpmPipeline pipeline, int workers, CancellationToken stoppingToken);
}
