namespace Rpm;

/// <summary>Where a background build job is (see <see cref="IRpmBuildJobStore"/>).</summary>
public enum RpmBuildJobState
{
    /// <summary>Queued, not started (or started before a restart, and to be resumed from its checkpoints).</summary>
    Pending,

    /// <summary>A worker is building the user's model.</summary>
    Running,

    /// <summary>The model is built and saved; <see cref="RpmBuildJob.ModelVersion"/> is its version.</summary>
    Succeeded,

    /// <summary>The build failed; <see cref="RpmBuildJob.Error"/> says why.</summary>
    Failed,
}
