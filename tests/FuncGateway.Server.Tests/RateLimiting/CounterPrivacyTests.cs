using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.RateLimiting;

/// <summary>
/// The counter table holds no personal data: client addresses, user ids, consumer ids and header values reach it only
/// as an HMAC under <c>FuncGateway:RateLimits:KeyHashSecret</c>, through the real server and Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class CounterPrivacyTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Secret = "privacy-test-secret-0123456789-abcdef";
    private const string User = "alice-7f3k";
    private const string Consumer = "acme-corp-9";
    private const string Tenant = "tenant-secret-42";
    private static readonly PasswordHash Password = PasswordHash.Create("correct horse", PasswordHash.MinimumIterations);

    private TestUpstream _echo = null!;

    public async Task InitializeAsync() => _echo = await TestUpstream.StartAsync("echo");

    public async Task DisposeAsync() => await _echo.DisposeAsync();

    private static Dictionary<string, string?> Settings(string secret) => new()
    {
        ["FuncGateway:RateLimits:KeyHashSecret"] = secret,
        ["FuncGateway:Auth:Policies:people:Type"] = "Basic",
        ["FuncGateway:Auth:Policies:people:Users:" + User] = Password.ToString(),
        ["FuncGateway:Auth:Policies:partners:Type"] = "ApiKey",
        ["FuncGateway:RateLimits:Policies:per_ip:Limit"] = "2",
        ["FuncGateway:RateLimits:Policies:per_ip:WindowSeconds"] = "3600",
        ["FuncGateway:RateLimits:Policies:per_user:Limit"] = "100",
        ["FuncGateway:RateLimits:Policies:per_user:WindowSeconds"] = "3600",
        ["FuncGateway:RateLimits:Policies:per_user:PartitionBy"] = "User,Route",
        ["FuncGateway:RateLimits:Policies:per_consumer:Limit"] = "100",
        ["FuncGateway:RateLimits:Policies:per_consumer:WindowSeconds"] = "3600",
        ["FuncGateway:RateLimits:Policies:per_consumer:PartitionBy"] = "Consumer",
        ["FuncGateway:RateLimits:Policies:per_consumer:Tiers:gold:Limit"] = "200",
        ["FuncGateway:RateLimits:Policies:per_tenant:Limit"] = "100",
        ["FuncGateway:RateLimits:Policies:per_tenant:WindowSeconds"] = "3600",
        ["FuncGateway:RateLimits:Policies:per_tenant:Algorithm"] = "TokenBucket",
        ["FuncGateway:RateLimits:Policies:per_tenant:PartitionBy"] = "Header:X-Tenant",
    };

    [Fact]
    public async Task No_counter_row_holds_a_client_address_user_id_consumer_or_header_value_in_clear_text()
    {
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(3600);
        var prefix = GatewayHost.NewPrefix();
        var keys = new TableServiceClient(azurite.ConnectionString).GetTableClient(ApiKeyFormat.TableName(prefix));
        await keys.CreateIfNotExistsAsync();
        var (apiKey, keyId) = ApiKeyFormat.Generate();
        await keys.AddEntityAsync(ApiKeyFormat.ToEntity(new ApiKeyRecord(ApiKeyFormat.Hash(apiKey), keyId, Consumer, null, "gold", [], true, null, null)));
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(Secret), prefix);
        await gateway.UpsertRouteAsync("people", "/people", _echo.BaseAddress.ToString(), ("Auth", "people"), ("RateLimit", "per_user,per_tenant"));
        await gateway.UpsertRouteAsync("partners", "/partners", _echo.BaseAddress.ToString(), ("Auth", "partners"), ("RateLimit", "per_consumer"));
        await gateway.UpsertRouteAsync("open", "/open", _echo.BaseAddress.ToString(), ("RateLimit", "per_ip"));
        await gateway.ReloadAsync();

        Assert.Equal(HttpStatusCode.OK, await SendAsync(gateway, "/people", r =>
        {
            r.Headers.Authorization = Basic(User + ":correct horse");
            r.Headers.Add("X-Tenant", Tenant);
        }));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(gateway, "/partners", r => r.Headers.Add("X-Api-Key", apiKey)));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(gateway, "/open"));

        // A failed login is counted per client address by the failed-authentication throttle.
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(gateway, "/people", r => r.Headers.Authorization = Basic(User + ":wrong")));

        var rows = await azurite.CreateTableServiceClient().GetTableClient(prefix + "RateLimits").QueryAsync<TableEntity>().ToListAsync();
        Assert.Equal(
            ["auth-failures", "per_consumer", "per_ip", "per_tenant", "per_user"],
            rows.Select(r => r.GetString("Policy")).Order(StringComparer.Ordinal));
        foreach (var row in rows)
        {
            var values = row.Select(p => p.Value).OfType<string>().Append(row.PartitionKey).Append(row.RowKey).ToList();
            foreach (var personal in new[] { "127.0.0.1", User, Consumer, Tenant, keyId })
            {
                Assert.DoesNotContain(values, v => v.Contains(personal, StringComparison.OrdinalIgnoreCase));
            }

            Assert.Matches(CounterPartitionKey(), row.PartitionKey);
            Assert.False(row.ContainsKey("Key"), "the clear-text Key property is gone");
        }

        // What a counter is per stays readable; whose it is does not.
        Assert.Equal(
            ["ClientIp", "ClientIp", "Header:X-Tenant", "User,Route", "tier=gold&Consumer"],
            rows.Select(r => r.GetString("PartitionBy")).Order(StringComparer.Ordinal));

        // The hash is HMAC-SHA256 under the configured secret: the same on every instance that has the secret,
        // unguessable without it (hashing every IPv4 address without the key finds nothing).
        var ipRow = Assert.Single(rows, r => r.GetString("Policy") == "per_ip");
        Assert.Equal($"per_ip-{Hmac(Secret, "\nip=127.0.0.1")}-00", ipRow.PartitionKey);
        Assert.NotEqual($"per_ip-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("\nip=127.0.0.1")))[..32]}-00", ipRow.PartitionKey);
        var tierRow = Assert.Single(rows, r => r.GetString("Policy") == "per_consumer");
        Assert.Equal($"per_consumer-{Hmac(Secret, "gold\nconsumer=" + Consumer)}-00", tierRow.PartitionKey);
    }

    [Fact]
    public async Task Rotating_the_secret_restarts_the_counters_and_instances_with_the_same_secret_share_them()
    {
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(3600);
        var prefix = GatewayHost.NewPrefix();
        await using (var first = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(Secret), prefix))
        await using (var second = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(Secret), prefix))
        {
            await first.UpsertRouteAsync("open", "/open", _echo.BaseAddress.ToString(), ("RateLimit", "per_ip"));
            await first.ReloadAsync();
            await second.ReloadAsync();

            // Same secret: one counter for both instances (limit 2).
            Assert.Equal(
                [HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests],
                [await SendAsync(first, "/open"), await SendAsync(second, "/open"), await SendAsync(first, "/open")]);
        }

        await using var rotated = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(Secret + "-rotated"), prefix);
        await rotated.ReloadAsync();

        // A new secret keys new rows: the client's count starts again (documented), the old row simply expires.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(rotated, "/open"));
        var rows = await azurite.CreateTableServiceClient().GetTableClient(prefix + "RateLimits").QueryAsync<TableEntity>().ToListAsync();
        Assert.Equal([1L, 2L], rows.Select(r => r.GetInt64("Count")!.Value).Order());
    }

    private static string Hmac(string secret, string data) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(data)))[..32];

    private static AuthenticationHeaderValue Basic(string userAndPassword) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userAndPassword)));

    private static async Task<HttpStatusCode> SendAsync(GatewayHost gateway, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        using var response = await gateway.Client.SendAsync(request);
        return response.StatusCode;
    }

    [GeneratedRegex("^[a-z0-9._-]+-[0-9a-f]{32}-[0-9]{2}$")]
    private static partial Regex CounterPartitionKey();
}
