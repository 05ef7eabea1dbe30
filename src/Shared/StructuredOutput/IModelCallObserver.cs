using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Sees each model call and repair turn of a validated read (<see cref="ValidatedOutputOptions.Observer"/>): the one
/// place the stages' model calls are measured and their repairs logged.
/// </summary>
internal interface IModelCallObserver
{
    /// <summary>Called before a call is sent; the value returned is handed back to <see cref="CallEnded"/>.</summary>
    long CallStarting();

    /// <summary>Called when a call returned a response or threw.</summary>
    void CallEnded(RpmStage stage, ChatOptions options, ChatResponse? response, Exception? error, long started);

    /// <summary>Called when an unusable answer is about to be followed by a repair turn.</summary>
    void RepairSending(RpmStage stage, string itemId, int attempt, int maxAttempts, ModelOutputFailure failure, string error);
}
