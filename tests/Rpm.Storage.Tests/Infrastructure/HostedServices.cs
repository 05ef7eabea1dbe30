using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Rpm.Storage.Tests.Infrastructure;

/// <summary>A container's hosted services, started as a host starts them and stopped when disposed.</summary>
public sealed class HostedServices(IReadOnlyList<IHostedService> services) : IAsyncDisposable
{
    public static async Task<HostedServices> StartAsync(IServiceProvider provider)
    {
        var hosted = new HostedServices([.. provider.GetServices<IHostedService>()]);
        foreach (IHostedService service in hosted._services)
        {
            await service.StartAsync(CancellationToken.None);
        }

        return hosted;
    }

    private readonly IReadOnlyList<IHostedService> _services = services;

    public async ValueTask DisposeAsync()
    {
        foreach (IHostedService service in _services)
        {
            await service.StopAsync(CancellationToken.None);
        }
    }
}
