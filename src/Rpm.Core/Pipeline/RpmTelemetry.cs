using System.Diagnostics;

namespace Rpm;

/// <summary>The activity source Rpm.Core reports its stages on; add <see cref="SourceName"/> to your tracer to see them.</summary>
public static class RpmTelemetry
{
    /// <summary>The name of the activity source.</summary>
    public const string SourceName = "Rpm.Core";

    internal static ActivitySource Source { get; } = new(SourceName);
}
