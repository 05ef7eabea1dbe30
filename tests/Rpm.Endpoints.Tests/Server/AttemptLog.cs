using System.Collections.Concurrent;

namespace Rpm.Endpoints.Tests.Server;

/// <summary>
/// Every HTTP attempt the transport makes, seen below its resilience handler (one entry per try, retries included), with
/// the RPM work it belonged to; and, once <see cref="RefuseAt"/> is set, each attempt sent to that address instead, so
/// that a test gets real refused connections from an endpoint that answered a moment before.
/// </summary>
public sealed class AttemptLog
{
    private readonly ConcurrentQueue<EndpointRetryProfile> _attempts = new();

    /// <summary>Gets the profile of each attempt, in order of sending.</summary>
    public IReadOnlyList<EndpointRetryProfile> Attempts => [.. _attempts];

    /// <summary>Gets or sets where attempts go instead of the endpoint (a closed port), or <see langword="null"/> to send them on unchanged.</summary>
    public Uri? RefuseAt { get; set; }

    /// <summary>Gets a loopback address on which nothing listens: connections to it are refused.</summary>
    public static Uri ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>Creates a handler that records into this log (one per HTTP handler chain; the factory may build several).</summary>
    public DelegatingHandler CreateHandler(HttpMessageHandler? inner = null)
    {
        var recorder = new Recorder(this);
        if (inner is not null)
        {
            // Without DI; IHttpClientFactory sets the inner handler itself.
            recorder.InnerHandler = inner;
        }

        return recorder;
    }

    private sealed class Recorder(AttemptLog log) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // The same ambient marks the resilience handler selected its pipeline by, one layer up.
            log._attempts.Enqueue(EndpointResilience.CurrentProfile);
            if (log.RefuseAt is { } refuse)
            {
                request.RequestUri = new Uri(refuse, request.RequestUri!.PathAndQuery);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
