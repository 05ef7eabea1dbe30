namespace Rpm;

/// <summary>
/// The model keys of one pipeline registration. A later <c>AddRpm</c> (or <c>AddKeyedRpm</c> with the same key)
/// replaces it, so the pipeline always uses the clients the last call named.
/// </summary>
internal sealed record RpmRegistration(string OptionsName, object? ChatClientKey, object? EmbeddingGeneratorKey);
