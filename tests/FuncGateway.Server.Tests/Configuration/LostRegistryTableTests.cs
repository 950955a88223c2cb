using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using FuncGateway.Server.Tests.Diagnostics;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Server.Tests.Configuration;

/// <summary>
/// A registry table lost (deleted by mistake, storage restored without it) while instances run: before the fix, the
/// next instance to start created it empty, and from then on every instance served the empty table (every route 404).
/// </summary>
[Collection("Azurite")]
public sealed class LostRegistryTableTests(AzuriteFixture azurite)
{
    private const string OrderSchema = """{"type":"object","required":["id"]}""";

    [Theory]
    [InlineData("Routes")]
    [InlineData("Upstreams")]
    [InlineData("Schemas")]
    public async Task A_starting_instance_does_not_create_a_lost_table_answers_503_and_every_instance_serves_again_once_it_is_back(string table)
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        var prefix = GatewayHost.NewPrefix();
        await using var running = await GatewayHost.StartAsync(azurite.ConnectionString, prefix: prefix);
        await running.UpsertSchemaAsync("order", OrderSchema);
        await running.UpsertUpstreamAsync("pool", echo.BaseAddress);
        await running.UpsertRouteAsync("orders", "/orders", "pool", ("Validation", """{"schema":"order"}"""));
        await running.ReloadAsync();
        await AssertServesOrdersAsync(running);

        var lost = table switch { "Routes" => running.Routes!, "Upstreams" => running.Upstreams!, _ => running.Schemas! };
        var rows = await ReadRowsAsync(lost); // what an export taken before the loss holds
        await lost.DeleteAsync();

        // A new instance (a restart, a scale-out) with no snapshot of its own.
        var logs = new CapturingLoggerProvider();
        await using var starting = await GatewayHost.StartAsync(
            azurite.ConnectionString,
            new Dictionary<string, string?> { ["FuncGateway:Registry:StartupWaitSeconds"] = "0" },
            prefix: prefix,
            logging: builder => builder.AddProvider(logs),
            createTables: false);
        var (reloadStatus, lastError) = await ForceReloadAsync(starting);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, reloadStatus);
        Assert.Contains($"Table '{lost.Name}' is missing", lastError, StringComparison.Ordinal);
        Assert.Contains("fgw import", lastError, StringComparison.Ordinal);
        Assert.False(await ExistsAsync(lost.Name), "the starting instance created the lost table");
        Assert.Equal(lastError, (await starting.AdminGetAsync("status")).GetProperty("lastError").GetString());

        using (var response = await starting.Client.PostAsync("/orders", JsonContent.Create(new { id = 1 })))
        {
            await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "no_configuration");
        }

        using (var healthz = await starting.Client.GetAsync("/_gateway/healthz"))
        {
            await Problem.AssertAsync(healthz, HttpStatusCode.ServiceUnavailable, "no_configuration");
        }

        var logged = Assert.Single(logs.Records, r => r.EventId.Id == 1009);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains(lost.Name, logged.Message, StringComparison.Ordinal);

        // The running instance reads the same missing table and keeps its last good snapshot.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ForceReloadAsync(running)).Status);
        await AssertServesOrdersAsync(running);

        // The table back with its rows, as fgw import writes them: both instances serve.
        await lost.CreateAsync();
        foreach (var row in rows)
        {
            await lost.AddEntityAsync(row);
        }

        await starting.ReloadAsync();
        await running.ReloadAsync();
        await AssertServesOrdersAsync(starting);
        await AssertServesOrdersAsync(running);
        using (var healthz = await starting.Client.GetAsync("/_gateway/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        }
    }

    [Fact]
    public async Task A_gateway_on_storage_that_never_held_the_registry_creates_its_tables_and_so_does_one_after_a_full_reset()
    {
        var prefix = GatewayHost.NewPrefix();
        var names = new[] { prefix + "Routes", prefix + "Upstreams", prefix + "Schemas" };
        await using (var fresh = await GatewayHost.StartAsync(azurite.ConnectionString, prefix: prefix, createTables: false))
        {
            await fresh.ReloadAsync(); // 200: the tables were created and read
            foreach (var name in names)
            {
                Assert.True(await ExistsAsync(name), $"{name} was not created");
            }

            using var healthz = await fresh.Client.GetAsync("/_gateway/healthz");
            Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        }

        // A storage reset that lost the gateway's record of the tables as well: it cannot tell this from a new
        // deployment, and creates the tables empty as before.
        var service = azurite.CreateTableServiceClient();
        await service.DeleteTableAsync(prefix + "Routes");
        await service.DeleteTableAsync(prefix + "State");
        await using var after = await GatewayHost.StartAsync(azurite.ConnectionString, prefix: prefix, createTables: false);
        await after.ReloadAsync();
        Assert.True(await ExistsAsync(prefix + "Routes"), "Routes was not created");
        using var notFound = await after.Client.GetAsync("/orders");
        await Problem.AssertAsync(notFound, HttpStatusCode.NotFound, "route_not_found");
    }

    private async Task<bool> ExistsAsync(string table)
    {
        await foreach (var _ in azurite.CreateTableServiceClient().QueryAsync(t => t.Name == table))
        {
            return true;
        }

        return false;
    }

    private static async Task<List<TableEntity>> ReadRowsAsync(TableClient table)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>())
        {
            rows.Add(new TableEntity(row.Where(p => p.Key is not ("Timestamp" or "odata.etag")).ToDictionary()));
        }

        return rows;
    }

    private static async Task AssertServesOrdersAsync(GatewayHost gateway)
    {
        using (var accepted = await gateway.Client.PostAsync("/orders", JsonContent.Create(new { id = 1 })))
        {
            Assert.Equal("echo", (await Echo.ReadAsync(accepted)).Instance);
        }

        // The schema applies too: the route was not built without it.
        using var refused = await gateway.Client.PostAsync("/orders", JsonContent.Create(new { name = "x" }));
        await Problem.AssertAsync(refused, HttpStatusCode.BadRequest, "validation_failed");
    }

    /// <summary>The admin reload: a registry read now, with the status it ends in.</summary>
    private static async Task<(HttpStatusCode Status, string? LastError)> ForceReloadAsync(GatewayHost gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/_gateway/reload");
        request.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, body.GetProperty("lastError").GetString());
    }
}
