namespace Rpm;

/// <summary>A personalized run as the session keeps it: whose it was and its query.</summary>
/// <param name="UserId">The user.</param>
/// <param name="Query">The run's latest user message.</param>
internal sealed record RpmSessionExchange(string UserId, string Query);
