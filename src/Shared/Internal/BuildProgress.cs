namespace Rpm;

/// <summary>
/// How far a build has come, reported to whoever started it in this async flow (Rpm.Hosting's build service, for the
/// job a caller polls) without a public type: the sink is a framework delegate in a <see cref="ProcessSlot"/>, so the
/// copy of this file in each Rpm assembly reads the same one.
/// </summary>
internal static class BuildProgress
{
    // (stage, items finished in the stage, items in the stage).
    private static readonly AsyncLocal<Action<string, int, int>?> Sink = ProcessSlot.Get<Action<string, int, int>?>("Rpm.BuildProgress");

    /// <summary>Sets the sink for the rest of the caller's async flow (a build started after this reports to it).</summary>
    public static void Observe(Action<string, int, int>? sink) => Sink.Value = sink;

    /// <summary>Reports progress within a stage; a failing sink never fails the build.</summary>
    public static void Report(string stage, int completed, int total)
    {
        if (Sink.Value is { } sink)
        {
            try
            {
                sink(stage, completed, total);
            }
            catch (Exception)
            {
                // Progress is informational: a sink that throws is the observer's problem, not the build's.
            }
        }
    }
}
