using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Azure.Data.Tables;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Functions.EndToEnd.Tests.Host;
using FuncGateway.Testing;

namespace FuncGateway.Functions.EndToEnd.Tests;

/// <summary>
/// One real Azurite, one echo upstream, and the built Functions app running under <see cref="FunctionsTestHost"/>,
/// shared by every test of the collection. The registry is seeded before the worker starts, so its first snapshot
/// already holds the routes; the settings reach the worker as environment variables (<c>FuncGateway__Section__Key</c>),
/// the form README documents for app settings.
/// </summary>
public sealed class FunctionsAppFixture : IAsyncLifetime
{
    public const string AdminKey = "functions-e2e-admin-key-0123456789";

    /// <summary>The per-IP limit of the rate-limited route.</summary>
    public const int PerIpLimit = 3;

    private AzuriteInstance? _azurite;

    internal FunctionsTestHost Host { get; private set; } = null!;

    public TestUpstream Echo { get; private set; } = null!;

    /// <summary>An upstream for tests that need their own behaviour (streaming); its handler is set per test.</summary>
    public TestUpstream Programmable { get; private set; } = null!;

    internal ProgrammableHandler ProgrammableHandler { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public string TablePrefix { get; } = "F" + Guid.NewGuid().ToString("N")[..12];

    public TableServiceClient Tables => _azurite!.CreateTableServiceClient();

    public TableClient Routes => Tables.GetTableClient(TablePrefix + "Routes");

    public TableClient Upstreams => Tables.GetTableClient(TablePrefix + "Upstreams");

    public TableClient Health => Tables.GetTableClient(TablePrefix + "Health");

    public TableClient RateLimits => Tables.GetTableClient(TablePrefix + "RateLimits");

    public TableClient ApiKeys => Tables.GetTableClient(ApiKeyFormat.TableName(TablePrefix));

    /// <summary>A port nothing listens on: the dead instance of the probed pool.</summary>
    public int DeadPort { get; } = LoopbackPorts.GetRefusing();

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteInstance.StartAsync();
        Echo = await TestUpstream.StartAsync("echo");
        Programmable = await TestUpstream.StartAsync("programmable", app => ((IApplicationBuilder)app).Run(ProgrammableHandler.HandleAsync));
        await SeedAsync();

        Host = await FunctionsTestHost.StartAsync(AppDirectory(), new Dictionary<string, string?>
        {
            // The Functions host itself needs AzureWebJobsStorage; the gateway reads its own connection string.
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["FuncGateway__Storage__ConnectionString"] = _azurite.ConnectionString,
            ["FuncGateway__Storage__TablePrefix"] = TablePrefix,
            ["FuncGateway__Registry__RefreshIntervalSeconds"] = "1",
            ["FuncGateway__Registry__StartupWaitSeconds"] = "30",
            ["FuncGateway__Admin__Key"] = AdminKey,
            ["FuncGateway__Forwarding__PublicHosts"] = "127.0.0.1,localhost",
            ["FuncGateway__Auth__Policies__partners__Type"] = "ApiKey",
            ["FuncGateway__RateLimits__Policies__per_ip__Limit"] = PerIpLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["FuncGateway__RateLimits__Policies__per_ip__WindowSeconds"] = "3600",
            ["FuncGateway__RateLimits__Policies__per_ip__Mode"] = "Strict",
            ["FuncGateway__RateLimits__Policies__second__Limit"] = "100",
            ["FuncGateway__RateLimits__Policies__second__WindowSeconds"] = "1",
            ["FuncGateway__RateLimits__Policies__second__Mode"] = "Strict",
            ["FuncGateway__RateLimits__RetentionSeconds"] = "0",
            ["FuncGateway__Health__RefreshIntervalSeconds"] = "0.5",
        });
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
        {
            BaseAddress = Host.BaseAddress,
            Timeout = TimeSpan.FromSeconds(120),
        };
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (Programmable is not null)
        {
            await Programmable.DisposeAsync();
        }

        if (Echo is not null)
        {
            await Echo.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }

    /// <summary>A route row as the Routes table holds it (anonymous unless <paramref name="more"/> says otherwise).</summary>
    public async Task UpsertRouteAsync(string id, string path, string upstream, params (string Name, object Value)[] more)
    {
        var entity = new TableEntity("default", id) { ["Path"] = path, ["Upstream"] = upstream, ["Auth"] = "anonymous" };
        foreach (var (name, value) in more)
        {
            entity[name] = value;
        }

        await Routes.UpsertEntityAsync(entity, TableUpdateMode.Replace);
    }

    /// <summary>An admin request through the Functions host.</summary>
    public static HttpRequestMessage AdminRequest(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, "/_gateway/" + path);
        request.Headers.Add("X-Admin-Key", AdminKey);
        return request;
    }

    /// <summary>The HTTP invocation the host made for a request to <paramref name="path"/> (it is recorded when the invocation ends).</summary>
    internal async Task<InvocationRecord> InvocationForAsync(string path)
    {
        for (var i = 0; i < 100; i++)
        {
            var record = Host.HttpInvocations.LastOrDefault(r => r.Path == path);
            if (record is not null)
            {
                return record;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException($"The host recorded no invocation for '{path}'.{Host.DescribeWorker()}");
    }

    private async Task SeedAsync()
    {
        foreach (var table in new[] { Routes, Upstreams, Health, ApiKeys })
        {
            await table.CreateIfNotExistsAsync();
        }

        var echo = Echo.BaseAddress.ToString().TrimEnd('/');
        await Upstreams.UpsertEntityAsync(new TableEntity("default", "echo") { ["Instances"] = JsonSerializer.Serialize(new[] { echo }) });
        // Probed by the HealthProbe timer: one live instance, one that refuses connections; one failure marks it down.
        await Upstreams.UpsertEntityAsync(new TableEntity("default", "probed")
        {
            ["Instances"] = JsonSerializer.Serialize(new[] { echo, $"http://127.0.0.1:{DeadPort}" }),
            ["HealthCheck"] = """{"path":"/health","intervalSeconds":5,"timeoutSeconds":2,"unhealthyThreshold":1,"healthyThreshold":1}""",
        });

        await UpsertRouteAsync("api", "/api/{**rest}", "echo");
        await UpsertRouteAsync("orders", "/shop/orders/{id:int}", "echo", ("Methods", "GET,PUT,DELETE"), ("UpstreamPath", "/v2/orders/{id}"));
        await UpsertRouteAsync("keys", "/keys/{**rest}", "echo", ("Auth", "partners"));
        await UpsertRouteAsync("limited", "/limited", "echo", ("RateLimit", "per_ip"));
        await UpsertRouteAsync("per-second", "/per-second", "echo", ("RateLimit", "second"));
        await UpsertRouteAsync("probed", "/probed/{**rest}", "probed");
        await UpsertRouteAsync("stream", "/stream/{**rest}", Programmable.BaseAddress.ToString());
    }

    // The worker runs from the Functions project's own build output, as a deployment would ship it (the Release
    // build the README's test command makes), never from this test's output folder.
    private static string AppDirectory()
    {
        var configuration = typeof(FunctionsAppFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        return RepositoryRoot.Combine($"functions/FuncGateway.Functions/bin/{configuration}/net10.0");
    }
}

/// <summary>Lets a test decide what the programmable upstream does with the next requests.</summary>
internal sealed class ProgrammableHandler
{
    private volatile RequestDelegate _handler = context =>
    {
        context.Response.StatusCode = StatusCodes.Status501NotImplemented;
        return Task.CompletedTask;
    };

    public void Set(RequestDelegate handler) => _handler = handler;

    public Task HandleAsync(HttpContext context) => _handler(context);
}

[CollectionDefinition(Name)]
public sealed class FunctionsAppCollectionDefinition : ICollectionFixture<FunctionsAppFixture>
{
    public const string Name = "Functions app under the test host";
}
