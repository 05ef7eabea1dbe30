namespace Rpm;

/// <summary>Options of <see cref="RpmProblemDetails"/> and of the exception handler <c>AddRpmProblemDetails()</c> registers.</summary>
public sealed class RpmProblemDetailsOptions
{
    /// <summary>
    /// Gets or sets the <c>Retry-After</c> of a 503 whose cause named no wait (an endpoint that is down without saying
    /// for how long, a store that cannot be reached); default 30 seconds. A wait the endpoint asked for is used as it is.
    /// </summary>
    public TimeSpan DefaultRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets whether the handler also answers exceptions that are not RPM's (default <see langword="true"/>:
    /// a 500 with a generic title and the trace id, no message and no stack trace). Set it to <see langword="false"/>
    /// to leave them to exception handlers registered after this one, or to ASP.NET Core's default.
    /// </summary>
    public bool HandleOtherExceptions { get; set; } = true;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="DefaultRetryAfter"/> is negative.</exception>
    public void Validate() => ArgumentOutOfRangeException.ThrowIfLessThan(DefaultRetryAfter, TimeSpan.Zero, nameof(DefaultRetryAfter));
}
