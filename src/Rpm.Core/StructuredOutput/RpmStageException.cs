namespace Rpm;

/// <summary>Thrown when a stage of the RPM method fails, naming the stage and the item it was working on.</summary>
public class RpmStageException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="RpmStageException"/> class.</summary>
    /// <param name="stage">The stage that failed.</param>
    /// <param name="itemId">The history item or query (or user, for factor construction) being processed.</param>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause, if any.</param>
    public RpmStageException(RpmStage stage, string itemId, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Stage = stage;
        ItemId = itemId;
    }

    /// <summary>Gets the stage that failed.</summary>
    public RpmStage Stage { get; }

    /// <summary>Gets the history item or query (or user, for factor construction) being processed.</summary>
    public string ItemId { get; }

    /// <summary>Gets what the stage's model calls cost before it failed (answers that could not be used were paid for too).</summary>
    public ModelUsage Usage { get; init; } = ModelUsage.None;
}
