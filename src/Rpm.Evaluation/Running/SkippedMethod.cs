namespace Rpm.Evaluation;

/// <summary>A method that did not run, and why.</summary>
/// <param name="Name">The method.</param>
/// <param name="Reason">Why it did not run.</param>
public sealed record SkippedMethod(string Name, string Reason);
