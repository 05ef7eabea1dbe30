namespace Rpm;

/// <summary>
/// Tells chat middleware what kind of RPM work the current call belongs to: one of RPM's own stage calls (a build, an
/// update, a query's features), a build or update of a user model, or the personalization of a live chat turn.
/// Personalization layers (<c>RpmChatClient</c>, the Agent Framework context provider) pass RPM's own calls
/// through instead of personalizing RPM's prompts (the pipeline may share the app's chat client), and transports pick
/// their retry profile by it: a build is patient, a live turn's personalization fails fast.
/// </summary>
/// <remarks>
/// Each mark flows with the asynchronous flow (<see cref="AsyncLocal{T}"/>) into every awaited call below it and ends
/// when the marking method returns. Linked source (src/Shared/Internal): Rpm.Core sets the marks and Rpm.OpenAI,
/// Rpm.OpenAI.Batch and Rpm.AgentFramework read them, each through its own copy of this file, so the slots are the
/// process's (<see cref="ProcessSlot"/>), not a copy's.
/// </remarks>
internal static class RpmStageCall
{
    private static readonly AsyncLocal<RpmStage?> Current = ProcessSlot.Get<RpmStage?>("Rpm.StageCall.Stage");
    private static readonly AsyncLocal<bool> Building = ProcessSlot.Get<bool>("Rpm.StageCall.Build");
    private static readonly AsyncLocal<bool> Personalizing = ProcessSlot.Get<bool>("Rpm.StageCall.Personalizing");

    /// <summary>Gets the stage whose call is in progress in the current asynchronous flow, or <see langword="null"/> outside RPM's stage calls.</summary>
    public static RpmStage? Stage => Current.Value;

    /// <summary>Gets a value indicating whether the current asynchronous flow is inside one of RPM's stage calls.</summary>
    public static bool IsActive => Current.Value is not null;

    /// <summary>
    /// Gets a value indicating whether the current asynchronous flow is inside a build or an update of a user model
    /// (<c>RpmPipeline.BuildUserModelAsync</c>, <c>RpmPipeline.AddHistoryAsync</c>): background work
    /// whose calls may wait out an outage.
    /// </summary>
    public static bool IsBuild => Building.Value;

    /// <summary>
    /// Gets a value indicating whether the current asynchronous flow is personalizing a live chat turn or agent run
    /// (<c>RpmChatClient</c>, the Agent Framework context provider): an optional improvement of the turn, whose
    /// calls should fail fast rather than delay the user's answer.
    /// </summary>
    public static bool IsPersonalizing => Personalizing.Value;

    /// <summary>Marks the rest of the calling asynchronous method as a stage call; the mark ends when that method returns.</summary>
    internal static void Enter(RpmStage stage) => Current.Value = stage;

    /// <summary>Marks the rest of the calling asynchronous method as a build or update; the mark ends when that method returns.</summary>
    internal static void EnterBuild() => Building.Value = true;

    /// <summary>Marks the rest of the calling asynchronous method as a live turn's personalization; the mark ends when that method returns.</summary>
    internal static void EnterPersonalization() => Personalizing.Value = true;
}
