using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>A structured answer that was read, coerced and validated, with what it cost.</summary>
/// <typeparam name="T">The result type.</typeparam>
internal sealed class ValidatedChatResponse<T>
{
    internal ValidatedChatResponse(T result, ModelUsage usage, int repairs, bool readFromReasoning, ChatResponse response, BuildDiagnostics degradations)
    {
        Result = result;
        Usage = usage;
        Repairs = repairs;
        ReadFromReasoning = readFromReasoning;
        Response = response;
        Diagnostics = degradations + new BuildDiagnostics { OutputRepairs = repairs > 0 ? 1 : 0, AnswersReadFromReasoning = readFromReasoning ? 1 : 0 };
    }

    /// <summary>Gets the validated result.</summary>
    public T Result { get; }

    /// <summary>Gets the calls and tokens of every attempt.</summary>
    public ModelUsage Usage { get; }

    /// <summary>Gets how many repair turns were needed (0 when the first answer was valid).</summary>
    public int Repairs { get; }

    /// <summary>Gets a value indicating whether the answer was found in the response's reasoning field, its text being empty.</summary>
    public bool ReadFromReasoning { get; }

    /// <summary>Gets the accepted response.</summary>
    public ChatResponse Response { get; }

    /// <summary>Gets the repairs and degradations of this answer, to be summed into a model's <see cref="BuildDiagnostics"/>.</summary>
    public BuildDiagnostics Diagnostics { get; }
}
