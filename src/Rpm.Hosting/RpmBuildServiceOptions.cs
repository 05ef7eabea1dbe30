namespace Rpm;

/// <summary>Options of <see cref="RpmBuildService"/>.</summary>
public sealed class RpmBuildServiceOptions
{
    /// <summary>Gets or sets how many users' builds run at once (each build runs its own calls up to <see cref="RpmOptions.MaxConcurrency"/>); default 2.</summary>
    public int MaxConcurrentBuilds { get; set; } = 2;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="MaxConcurrentBuilds"/> is not positive.</exception>
    public void Validate() => ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConcurrentBuilds);
}
