namespace Rpm;

/// <summary>The result of checking a model's structured answer: a value, or an error phrased so that the model can correct it.</summary>
/// <typeparam name="T">The value type.</typeparam>
internal sealed class OutputValidation<T>
{
    private OutputValidation(T? value, string? error, BuildDiagnostics diagnostics)
    {
        Value = value;
        Error = error;
        Diagnostics = diagnostics;
    }

    /// <summary>Gets the value, when valid.</summary>
    public T? Value { get; }

    /// <summary>Gets what was wrong, when not valid.</summary>
    public string? Error { get; }

    /// <summary>Gets a value indicating whether the answer is valid.</summary>
    public bool IsValid => Error is null;

    /// <summary>Gets the degradations accepted with a valid value (e.g. judgments left unknown on the last attempt).</summary>
    public BuildDiagnostics Diagnostics { get; }

    /// <summary>Accepts a value.</summary>
    /// <param name="value">The value.</param>
    /// <param name="diagnostics">What had to be accepted in a degraded form, if anything.</param>
    /// <returns>The result.</returns>
    public static OutputValidation<T> Valid(T value, BuildDiagnostics? diagnostics = null) => new(value, null, diagnostics ?? BuildDiagnostics.None);

    /// <summary>Rejects the answer.</summary>
    /// <param name="error">What was wrong, phrased for the model (it is sent back in the repair turn).</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentException"><paramref name="error"/> is blank.</exception>
    public static OutputValidation<T> Invalid(string error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(error);
        return new(default, error, BuildDiagnostics.None);
    }
}

/// <summary>Where a validation runs: which attempt, and whether another one follows.</summary>
/// <param name="Attempt">The attempt, from 1.</param>
/// <param name="MaxAttempts">The attempts allowed: 1 plus the repairs.</param>
internal readonly record struct OutputValidationContext(int Attempt, int MaxAttempts)
{
    /// <summary>Gets a value indicating whether no repair turn follows: a validator may accept a degraded answer here rather than fail.</summary>
    public bool IsLastAttempt => Attempt >= MaxAttempts;
}
