namespace Rpm;

/// <summary>
/// Tells chat middleware whether the current call is one of RPM's own stage calls (a build, an update, a query's
/// features), so that personalization layers (<see cref="RpmChatClient"/>, the Agent Framework context provider)
/// pass it through instead of personalizing RPM's own prompts: the pipeline may share the app's chat client.
/// </summary>
public static class RpmStageCall
{
    private static readonly AsyncLocal<RpmStage?> Current = new();

    /// <summary>Gets the stage whose call is in progress in the current asynchronous flow, or <see langword="null"/> outside RPM's stage calls.</summary>
    public static RpmStage? Stage => Current.Value;

    /// <summary>Gets a value indicating whether the current asynchronous flow is inside one of RPM's stage calls.</summary>
    public static bool IsActive => Current.Value is not null;

    /// <summary>Marks the rest of the calling asynchronous method as a stage call; the mark ends when that method returns.</summary>
    internal static void Enter(RpmStage stage) => Current.Value = stage;
}
