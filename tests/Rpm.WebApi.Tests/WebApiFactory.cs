using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Rpm.WebApi.Tests;

/// <summary>
/// The sample app as it runs (Production environment, real SQLite file, real MiniLM embeddings, the real Rpm.OpenAI
/// client) against <see cref="FaultyEndpoint"/>, with retries off so a fault shows at once.
/// </summary>
public sealed class WebApiFactory : WebApplicationFactory<Program>
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "rpm-webapi-" + Guid.NewGuid().ToString("N"));

    public WebApiFactory(FaultyEndpoint endpoint, string? storePath = null, string? postgres = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        Endpoint = endpoint;
        Postgres = postgres;
        Settings = settings ?? new Dictionary<string, string>();
        Directory.CreateDirectory(_folder);
        StorePath = storePath ?? Path.Combine(_folder, "rpm.db");
    }

    public FaultyEndpoint Endpoint { get; }

    public string StorePath { get; }

    /// <summary>Gets the PostgreSQL connection string the app uses instead of the SQLite file (ConnectionStrings:rpm), if any.</summary>
    public string? Postgres { get; }

    public IReadOnlyDictionary<string, string> Settings { get; }

    public string Folder => _folder;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("Rpm:Chat:Endpoint", Endpoint.Endpoint.ToString());
        builder.UseSetting("Rpm:Chat:Model", "fake-model");
        builder.UseSetting("Rpm:Chat:ApiKey", "test-key");
        builder.UseSetting("Rpm:Chat:Build:MaxRetryAttempts", "0");
        builder.UseSetting("Rpm:Chat:Interactive:MaxRetryAttempts", "0");
        builder.UseSetting("Rpm:Chat:Interactive:AttemptTimeout", "00:00:02");
        builder.UseSetting("Rpm:Chat:Build:AttemptTimeout", "00:00:02");
        builder.UseSetting("Rpm:Health:Chat:CacheDuration", "00:00:00");
        builder.UseSetting("Rpm:Store", StorePath);
        if (Postgres is not null)
        {
            builder.UseSetting("ConnectionStrings:rpm", Postgres);
        }

        foreach ((string key, string value) in Settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
