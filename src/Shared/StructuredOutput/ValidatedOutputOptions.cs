using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>How a validated structured answer is asked for.</summary>
internal sealed class ValidatedOutputOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether the schema is sent in <see cref="ChatOptions.ResponseFormat"/> (default).
    /// When <see langword="false"/>, JSON mode is requested and the schema is written into the prompt, as
    /// Microsoft.Extensions.AI's <c>GetResponseAsync&lt;T&gt;</c> does, for servers that reject schemas.
    /// </summary>
    public bool UseJsonSchemaResponseFormat { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the endpoint is asked to enforce the schema strictly (OpenAI's strict
    /// structured outputs, through <c>ChatOptions.AdditionalProperties["strict"]</c>). Default <see langword="true"/>;
    /// turn it off for servers that reject <c>"strict": true</c>.
    /// </summary>
    public bool UseStrictJsonSchema { get; set; } = true;

    /// <summary>Gets or sets how many repair turns follow an unusable answer, each telling the model what was wrong. Default 1; 0 to 5.</summary>
    public int MaxRepairs { get; set; } = 1;

    /// <summary>Gets or sets chat options for every call (model id, temperature); cloned per call, never mutated.</summary>
    public ChatOptions? ChatOptions { get; set; }

    /// <summary>Gets what sees each call and repair turn (the RPM stages' telemetry), or null.</summary>
    internal IModelCallObserver? Observer { get; init; }
}
