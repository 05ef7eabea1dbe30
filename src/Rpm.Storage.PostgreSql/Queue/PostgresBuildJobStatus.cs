namespace Rpm;

/// <summary>The state of a job in <see cref="PostgresBuildQueue"/>.</summary>
public enum PostgresBuildJobStatus
{
    /// <summary>Waiting for a worker, being built, or waiting for a retry after a failed build.</summary>
    Pending,

    /// <summary>Built and saved.</summary>
    Done,

    /// <summary>Failed on every attempt, or failed with an error that a retry cannot fix (an invalid history); see <see cref="PostgresBuildJob.LastError"/>.</summary>
    Failed,
}
