using System.Net;
using System.Net.Http.Json;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Caching;

/// <summary>
/// The optional Redis tier with a real redis-server: two gateway instances sharing one Azurite and one Redis answer
/// each other's misses, and a purge on one instance removes the entry from both instances and from Redis.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SharedTierTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private TestUpstream _upstream = null!;
    private int _served;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _upstream = await TestUpstream.StartAsync("shared-tier", app => app.Run(async context =>
        {
            var serial = Interlocked.Increment(ref _served);
            context.Response.Headers["Cache-Tag"] = "tier";
            context.Response.Headers.Vary = "X-Device";
            await context.Response.WriteAsync($"serial {serial} device {context.Request.Headers["X-Device"]}");
        }));
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private Task<GatewayHost> StartAsync(string prefix, bool redis) => GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
    {
        ["FuncGateway:Cache:RedisConnectionString"] = redis ? _redis.ConnectionString : null,
    }, prefix);

    private static async Task<(string XCache, string Body)> GetAsync(GatewayHost gateway, string device)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/tier/item");
        request.Headers.Add("X-Device", device);
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (string.Join(",", response.Headers.GetValues("X-Cache")), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_entry_stored_by_one_instance_answers_a_miss_on_another_until_it_is_purged()
    {
        var prefix = GatewayHost.NewPrefix();
        await using var first = await StartAsync(prefix, redis: true);
        await using var second = await StartAsync(prefix, redis: true);
        await first.UpsertUpstreamAsync("tier", _upstream.BaseAddress);
        await first.UpsertRouteAsync("tier", "/tier/{**rest}", "tier", ("Cache", """{"ttlSeconds":60,"headers":["X-Device"]}"""));
        await first.ReloadAsync();
        await second.ReloadAsync();

        var stored = await GetAsync(first, "phone");
        Assert.Equal("miss", stored.XCache);

        // The write to Redis does not hold up the first response: wait until the entry is there.
        await using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString))
        {
            var server = redis.GetServer(redis.GetEndPoints()[0]);
            // Deadlines here are for conditions polled for, and generous: on a loaded machine a write to Redis, or a purge
            // poll of Azurite (every 0.5 s), can take seconds.
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (!server.Keys(pattern: prefix + ":fgw:e:*").Any())
            {
                Assert.True(DateTime.UtcNow < deadline, "The first instance never wrote its entry to Redis.");
                await Task.Delay(50);
            }
        }

        var other = await GetAsync(second, "phone");
        Assert.Equal("hit", other.XCache);
        Assert.Equal(stored.Body, other.Body);
        var upstreamRequests = _upstream.RequestCount;

        // Another variant is another entry, on either instance.
        Assert.Equal("miss", (await GetAsync(second, "desktop")).XCache);

        // A purge on the first instance: gone from both instances' memory and from Redis.
        using (var purge = new HttpRequestMessage(HttpMethod.Post, "/_gateway/cache/purge") { Content = JsonContent.Create(new { tag = "tier" }) })
        {
            purge.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
            using var accepted = await first.Client.SendAsync(purge);
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        var purgeDeadline = DateTime.UtcNow.AddSeconds(15);
        while ((await GetAsync(second, "phone")).XCache != "miss")
        {
            Assert.True(DateTime.UtcNow < purgeDeadline, "The purge never reached the second instance.");
            await Task.Delay(200);
        }

        Assert.True(_upstream.RequestCount > upstreamRequests + 1);

        // Off by default: an instance without the setting never sees the shared entries.
        await using var alone = await StartAsync(prefix, redis: false);
        await alone.ReloadAsync();
        Assert.Equal("miss", (await GetAsync(alone, "phone")).XCache);
    }
}
