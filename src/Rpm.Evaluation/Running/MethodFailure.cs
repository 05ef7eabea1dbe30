namespace Rpm.Evaluation;

/// <summary>A user build or a query that failed (a model call failed, or its answer could not be used at all).</summary>
/// <param name="UserId">The user.</param>
/// <param name="QueryId">The query, or <see langword="null"/> when the user's build failed (then every query of the user failed).</param>
/// <param name="Message">What went wrong.</param>
public sealed record MethodFailure(string UserId, string? QueryId, string Message);
