namespace Rpm;

/// <summary>Why a chat model's answer could not be used, as read from the answer and the response's metadata.</summary>
public enum ModelOutputFailure
{
    /// <summary>The answer held no JSON that fits the schema and passes validation (the error says what was wrong).</summary>
    InvalidOutput,

    /// <summary>The answer stopped at the output token limit (finish reason <c>length</c>) or ended inside an unclosed reasoning block or JSON object.</summary>
    Truncated,

    /// <summary>The model refused (OpenAI's <c>refusal</c> field); <see cref="RpmRefusalException"/> carries the refusal text. Not retried.</summary>
    Refused,

    /// <summary>The provider's content filter stopped the answer (finish reason <c>content_filter</c>). Not retried.</summary>
    ContentFiltered,

    /// <summary>The answer text was empty; when the model wrote to a reasoning field instead, the error says how much.</summary>
    Empty,
}
