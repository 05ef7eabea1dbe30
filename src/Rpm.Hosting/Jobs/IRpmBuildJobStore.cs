namespace Rpm;

/// <summary>
/// Where background build jobs are kept (<c>AddBackgroundBuilds()</c> in Rpm.Hosting): in memory by default, in the
/// SQLite file with <c>UseSqliteStore</c>, so queued jobs survive a restart.
/// </summary>
/// <remarks>Implementations are thread-safe. A request whose user already has a pending or running job for the same work joins that job.</remarks>
public interface IRpmBuildJobStore
{
    /// <summary>Queues a request, or returns the user's pending or running job for the same work (<see cref="RpmBuildRequest.WorkKey"/>).</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The job, new or joined.</returns>
    Task<RpmBuildJob> EnqueueAsync(RpmBuildRequest request, CancellationToken cancellationToken = default);

    /// <summary>Gets a job.</summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The job, or <see langword="null"/> when there is none with that id.</returns>
    Task<RpmBuildJob?> GetAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Marks the oldest pending job running and returns it with its request, or <see langword="null"/> when none is pending.</summary>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The started job and its request.</returns>
    Task<(RpmBuildJob Job, RpmBuildRequest Request)?> TryStartNextAsync(CancellationToken cancellationToken = default);

    /// <summary>Records that a job succeeded.</summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="modelVersion">The version of the saved model.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>A task that completes when the state is saved.</returns>
    Task CompleteAsync(string jobId, long modelVersion, CancellationToken cancellationToken = default);

    /// <summary>Records that a job failed.</summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="error">Why (the exception's type and message).</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>A task that completes when the state is saved.</returns>
    Task FailAsync(string jobId, string error, CancellationToken cancellationToken = default);

    /// <summary>Puts every running job back to pending (at start-up: a job a previous process left running resumes from its checkpoints).</summary>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The number of jobs put back.</returns>
    Task<int> RequeueRunningAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes every job of a user, with its queued history (erasure).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The number of jobs deleted.</returns>
    Task<int> DeleteUserAsync(string userId, CancellationToken cancellationToken = default);
}
