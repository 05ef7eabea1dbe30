namespace Rpm.Evaluation;

/// <summary>A data file is malformed; the message names the file and, where there is one, the item.</summary>
public sealed class EvaluationDataException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="EvaluationDataException"/> class.</summary>
    public EvaluationDataException()
        : this("The evaluation data is malformed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="EvaluationDataException"/> class.</summary>
    /// <param name="message">The message.</param>
    public EvaluationDataException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="EvaluationDataException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public EvaluationDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="EvaluationDataException"/> class.</summary>
    /// <param name="filePath">The malformed file.</param>
    /// <param name="itemId">The malformed item, if one is to blame.</param>
    /// <param name="problem">What is wrong and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public EvaluationDataException(string filePath, string? itemId, string problem, Exception? innerException = null)
        : base($"{filePath}{(itemId is null ? string.Empty : $", item '{itemId}'")}: {problem}", innerException)
    {
        FilePath = filePath;
        ItemId = itemId;
    }

    /// <summary>Gets the malformed file.</summary>
    public string? FilePath { get; }

    /// <summary>Gets the malformed item, if one is to blame.</summary>
    public string? ItemId { get; }
}
