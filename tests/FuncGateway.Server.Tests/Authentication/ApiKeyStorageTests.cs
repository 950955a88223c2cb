using System.Net;
using Azure.Data.Tables;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Authentication;

/// <summary>API keys when their table misbehaves: the lookup's storage failures against real Azurite.</summary>
[Collection("Azurite")]
public sealed class ApiKeyStorageTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task An_api_key_table_that_goes_away_is_an_outage_keys_read_before_keep_working_and_unknown_keys_get_503_not_401()
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        var prefix = GatewayHost.NewPrefix();
        var keys = new TableServiceClient(azurite.ConnectionString).GetTableClient(ApiKeyFormat.TableName(prefix));
        await keys.CreateIfNotExistsAsync();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:partners:Type"] = "ApiKey",

            // Every request reads the table (no fresh cache), so what the table says decides at once; a record read
            // earlier is kept for the default StaleIfErrorSeconds (300 s).
            ["FuncGateway:Auth:ApiKeys:CacheSeconds"] = "0",
            ["FuncGateway:Auth:ApiKeys:NegativeCacheSeconds"] = "0",
        }, prefix);
        await gateway.UpsertUpstreamAsync("echo", echo.BaseAddress);
        await gateway.UpsertRouteAsync("keys", "/keys/{**rest}", "echo", ("Auth", "partners"));
        await gateway.ReloadAsync();
        var (key, keyId) = ApiKeyFormat.Generate();
        await keys.UpsertEntityAsync(ApiKeyFormat.ToEntity(new ApiKeyRecord(ApiKeyFormat.Hash(key), keyId, "acme", "acme prod", null, [], true, null, TimeProvider.System.GetUtcNow())));
        using (var before = await SendAsync(gateway, key))
        {
            Assert.Equal("echo", (await Echo.ReadAsync(before)).Instance);
        }

        // The table disappears (an account reset, an emulator restarted in memory, a deleted table). Before the fix a
        // missing table read as an empty one: every client's valid key got 401 invalid_api_key, and after ten of those
        // its address got 429 auth_throttled.
        await keys.DeleteAsync();
        for (var i = 0; i < 15; i++)
        {
            using var during = await SendAsync(gateway, key);
            Assert.True(during.StatusCode == HttpStatusCode.OK, $"request {i}: {(int)during.StatusCode} {await during.Content.ReadAsStringAsync()}");
        }

        using (var unknown = await SendAsync(gateway, ApiKeyFormat.Generate().Key))
        {
            await Problem.AssertAsync(unknown, HttpStatusCode.ServiceUnavailable, "auth_unavailable");
        }

        // The table back (restored, or made again by fgw keys): it decides again.
        await keys.CreateIfNotExistsAsync();
        using (var absent = await SendAsync(gateway, key))
        {
            await Problem.AssertAsync(absent, HttpStatusCode.Unauthorized, "invalid_api_key");
        }
    }

    [Fact]
    public async Task Without_an_api_key_table_ever_seen_a_key_is_unknown_401_not_an_outage()
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:partners:Type"] = "ApiKey",
        });
        await gateway.UpsertUpstreamAsync("echo", echo.BaseAddress);
        await gateway.UpsertRouteAsync("keys", "/keys/{**rest}", "echo", ("Auth", "partners"));
        await gateway.ReloadAsync();

        // No key was ever created (fgw keys makes the table): a new deployment, not an outage.
        using var response = await SendAsync(gateway, ApiKeyFormat.Generate().Key);
        await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "invalid_api_key");
    }

    private static Task<HttpResponseMessage> SendAsync(GatewayHost gateway, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/keys/x");
        request.Headers.Add("X-API-Key", key);
        return gateway.Client.SendAsync(request);
    }
}
