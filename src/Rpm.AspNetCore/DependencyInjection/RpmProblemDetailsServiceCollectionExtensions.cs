using Microsoft.Extensions.DependencyInjection.Extensions;
using Rpm;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the answer of RPM's exceptions as RFC 9457 problem details.</summary>
public static class RpmProblemDetailsServiceCollectionExtensions
{
    /// <summary>
    /// Registers ASP.NET Core's problem details service (<c>AddProblemDetails()</c>) and an exception handler that answers
    /// RPM's exceptions with <see cref="RpmProblemDetails"/>: 400 for invalid input naming the item, 409 for a concurrent
    /// writer, 502 for a model answer that could not be used, 503 with <c>Retry-After</c> when the endpoint or the store is
    /// down, 500 otherwise without a message or stack trace. The app must call <c>app.UseExceptionHandler()</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// Exception handlers run in the order they were registered, and by default this one answers every exception (see
    /// <see cref="RpmProblemDetailsOptions.HandleOtherExceptions"/>): register the app's own handlers first.
    /// </remarks>
    public static IServiceCollection AddRpmProblemDetails(this IServiceCollection services, Action<RpmProblemDetailsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddProblemDetails();
        OptionsBuilderExtensions.ValidateOnStart(services.AddOptions<RpmProblemDetailsOptions>().Validate(o =>
        {
            o.Validate();
            return true;
        }));
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (!services.Any(d => d.ServiceType == typeof(Microsoft.AspNetCore.Diagnostics.IExceptionHandler) && d.ImplementationType == typeof(RpmExceptionHandler)))
        {
            services.AddExceptionHandler<RpmExceptionHandler>();
        }

        return services;
    }
}
