using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Server.Tests.Infrastructure;

/// <summary>
/// A real FuncGateway server (the same builder as the shipped host) on Kestrel at 127.0.0.1:0, pointed at an
/// Azurite instance with its own table prefix, plus a writer for its registry tables using Azure.Data.Tables directly.
/// </summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-0123456789";

    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, HttpClient client, string prefix, string? connectionString)
    {
        _app = app;
        Client = client;
        TablePrefix = prefix;
        if (connectionString is not null)
        {
            var service = new TableServiceClient(connectionString);
            Routes = service.GetTableClient(prefix + "Routes");
            Upstreams = service.GetTableClient(prefix + "Upstreams");
            Health = service.GetTableClient(prefix + "Health");
            Schemas = service.GetTableClient(prefix + "Schemas");
        }
    }

    public HttpClient Client { get; }

    /// <summary>The running server's services (its meter provider, loggers...).</summary>
    public IServiceProvider Services => _app.Services;

    public string TablePrefix { get; }

    public TableClient? Routes { get; }

    public TableClient? Upstreams { get; }

    /// <summary>The Health table the prober writes and every gateway instance reads.</summary>
    public TableClient? Health { get; }

    /// <summary>The named JSON Schemas routes' Validation refers to.</summary>
    public TableClient? Schemas { get; }

    public static string NewPrefix() => "T" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// Starts a gateway on <paramref name="url"/> (<c>http://[::1]:0</c> for a client that connects over IPv6). With
    /// <paramref name="createTables"/> false the tables are left as they are, for the gateway to find.
    /// </summary>
    public static async Task<GatewayHost> StartAsync(string? connectionString, IDictionary<string, string?>? settings = null, string? prefix = null, Action<IServiceCollection>? services = null,
        Action<ILoggingBuilder>? logging = null, string url = "http://127.0.0.1:0", bool createTables = true)
    {
        prefix ??= NewPrefix();
        var config = new Dictionary<string, string?>
        {
            ["FuncGateway:Storage:ConnectionString"] = connectionString,
            ["FuncGateway:Storage:TablePrefix"] = prefix,
            ["FuncGateway:Registry:RefreshIntervalSeconds"] = "0.5",
            ["FuncGateway:Registry:StartupWaitSeconds"] = "5",
            ["FuncGateway:Registry:ReadTimeoutSeconds"] = "3",
            ["FuncGateway:Admin:Key"] = AdminKey,
            ["AzureWebJobsStorage"] = null,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        if (connectionString is not null && createTables)
        {
            // Create the tables up front so tests can write rows before the gateway's first read.
            var service = new TableServiceClient(connectionString);
            await service.GetTableClient(prefix + "Routes").CreateIfNotExistsAsync();
            await service.GetTableClient(prefix + "Upstreams").CreateIfNotExistsAsync();
            await service.GetTableClient(prefix + "Health").CreateIfNotExistsAsync();
            await service.GetTableClient(prefix + "Schemas").CreateIfNotExistsAsync();
        }

        var app = GatewayServer.Build(["--urls", url], builder =>
        {
            builder.Configuration.AddInMemoryCollection(config);
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            logging?.Invoke(builder.Logging);
            services?.Invoke(builder.Services);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(address),
            Timeout = TimeSpan.FromSeconds(120),
        };
        return new GatewayHost(app, client, prefix, connectionString);
    }

    /// <summary>Upserts a route row; a null <paramref name="upstream"/> leaves <c>Upstream</c> out (a route that answers by itself).</summary>
    public async Task UpsertRouteAsync(string id, string path, string? upstream, params (string Name, object Value)[] more)
    {
        // Auth is required by the route format; a test that does not name a policy means an anonymous route.
        var entity = new TableEntity("default", id) { ["Path"] = path, ["Auth"] = "anonymous" };
        if (upstream is not null)
        {
            entity["Upstream"] = upstream;
        }

        foreach (var (name, value) in more)
        {
            entity[name] = value;
        }

        await Routes!.UpsertEntityAsync(entity, TableUpdateMode.Replace);
    }

    public async Task UpsertUpstreamAsync(string name, params Uri[] instances)
    {
        var json = JsonSerializer.Serialize(instances.Select(i => new { url = i.ToString().TrimEnd('/'), weight = 1 }));
        await Upstreams!.UpsertEntityAsync(new TableEntity("default", name) { ["Instances"] = json, ["LoadBalancing"] = "RoundRobin" }, TableUpdateMode.Replace);
    }

    /// <summary>Writes an instance's Health table row as Unhealthy, probed now, as a prober would (the gateway reads it on its next refresh).</summary>
    public async Task MarkUnhealthyAsync(string pool, Uri instance, int successes = 0, int failures = 3)
    {
        var now = DateTimeOffset.UtcNow;
        var url = instance.ToString().TrimEnd('/');
        await Health!.UpsertEntityAsync(new TableEntity(pool, Uri.EscapeDataString(url))
        {
            ["Url"] = url,
            ["State"] = "Unhealthy",
            ["ConsecutiveSuccesses"] = successes,
            ["ConsecutiveFailures"] = failures,
            ["ProbedAt"] = now,
            ["StateChangedAt"] = now,
        });
    }

    /// <summary>A pool with weights and further properties (LoadBalancing, HealthCheck, CircuitBreaker, ...).</summary>
    public async Task UpsertPoolAsync(string name, (Uri Url, int Weight)[] instances, params (string Name, object Value)[] more)
    {
        var json = JsonSerializer.Serialize(instances.Select(i => new { url = i.Url.ToString().TrimEnd('/'), weight = i.Weight }));
        var entity = new TableEntity("default", name) { ["Instances"] = json };
        foreach (var (property, value) in more)
        {
            entity[property] = value;
        }

        await Upstreams!.UpsertEntityAsync(entity, TableUpdateMode.Replace);
    }

    /// <summary>A row of the Schemas table: the schema's JSON text under its name.</summary>
    public async Task UpsertSchemaAsync(string name, string schemaJson) =>
        await Schemas!.UpsertEntityAsync(new TableEntity("default", name) { ["Schema"] = schemaJson }, TableUpdateMode.Replace);

    /// <summary>Forces the gateway to re-read its tables now (the admin reload), so tests need not wait an interval.</summary>
    public async Task ReloadAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/_gateway/reload");
        request.Headers.Add("X-Admin-Key", AdminKey);
        using var response = await Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    public async Task<JsonElement> AdminGetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/" + path);
        request.Headers.Add("X-Admin-Key", AdminKey);
        using var response = await Client.SendAsync(request);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The rows listed at <c>/_gateway/rejected</c>: row key → every reason, joined by spaces.</summary>
    public async Task<Dictionary<string, string>> RejectedReasonsAsync() =>
        (await AdminGetAsync("rejected")).GetProperty("rejected").EnumerateArray()
            .ToDictionary(r => r.GetProperty("rowKey").GetString()!, r => string.Join(" ", r.GetProperty("errors").EnumerateArray().Select(e => e.GetString())));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
