using System.Text.Json;

namespace FuncGateway.Functions.EndToEnd.Tests;

/// <summary>The start-up handshake with the real worker: what it reports, indexes and loads.</summary>
[Collection(FunctionsAppCollectionDefinition.Name)]
public sealed class WorkerProtocolTests(FunctionsAppFixture app)
{
    [Fact]
    public void The_worker_reports_its_own_http_listener_for_the_host_to_forward_to()
    {
        var httpUri = new Uri(app.Host.WorkerCapabilities["HttpUri"]);

        Assert.Equal("http", httpUri.Scheme);
        Assert.True(httpUri.IsLoopback, httpUri.ToString());
        Assert.Equal(httpUri, app.Host.WorkerHttpUri);
    }

    [Fact]
    public void The_worker_indexes_and_loads_exactly_the_functions_the_build_declares()
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(app.Host.AppDirectory, "functions.metadata")));
        var declared = metadata.RootElement.EnumerateArray()
            .Select(f => (Name: f.GetProperty("name").GetString()!, EntryPoint: f.GetProperty("entryPoint").GetString()!))
            .OrderBy(f => f.Name, StringComparer.Ordinal);

        var indexed = app.Host.Functions.Select(f => (f.Name, f.EntryPoint)).OrderBy(f => f.Name, StringComparer.Ordinal);

        Assert.Equal(declared, indexed);
        Assert.Equal(["Gateway", "HealthProbe", "RateLimitMaintenance"], app.Host.Functions.Select(f => f.Name).Order(StringComparer.Ordinal));
    }
}
