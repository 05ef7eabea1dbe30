namespace Rpm;

/// <content>One build per user at a time within the process (<see cref="UserBuildGate"/>).</content>
public sealed partial class RpmPipeline
{
    private readonly UserBuildGate _gate = new();

    internal int JoinedBuildCount => _gate.JoinCount;

    private Task<UserModel> SingleFlightAsync(string userId, string work, Func<CancellationToken, Task<UserModel>> run, CancellationToken cancellationToken) =>
        _gate.RunAsync(userId, work, run, cancellationToken);
}
