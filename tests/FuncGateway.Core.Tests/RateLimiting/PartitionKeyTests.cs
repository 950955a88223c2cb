using FuncGateway.Core.Tests.Configuration;
using FuncGateway.Model;
using System.Net;
using System.Security.Claims;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>Every partition key: what a request resolves to, and that clients can neither dodge nor collide.</summary>
public sealed class PartitionKeyTests
{
    private static readonly GatewaySnapshot Snapshot = new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100), poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()))
        .Build(new RegistryContent([], [Route("orders", "/orders", "http://10.0.0.4:8080")]), 1, TestLimiters.Start);

    private static string Resolve(string partitionBy, string client = "203.0.113.7", GatewayIdentity? identity = null, (string Name, string Value)[]? headers = null, MissingKeyBehavior missing = MissingKeyBehavior.ClientIp)
    {
        Assert.True(PartitionKeySpec.TryParse(partitionBy, out var spec, out var error), error);
        var context = new DefaultHttpContext();
        foreach (var (name, value) in headers ?? [])
        {
            context.Request.Headers.Append(name, value);
        }

        var feature = new GatewayRequestFeature(Snapshot.Routes[0], new RouteValueDictionary())
        {
            ClientAddress = IPAddress.Parse(client),
            Identity = identity,
        };
        return spec.Resolve(context, feature, missing, 64);
    }

    private static GatewayIdentity Identity(string? user = "alice", string? consumer = "acme", string? tier = "gold", params Claim[] claims) =>
        new("jwt", user, consumer, tier, new ClaimsPrincipal(new ClaimsIdentity(claims, "test")));

    [Fact]
    public void Each_partition_key_resolves_to_its_own_value()
    {
        var identity = Identity(claims: new Claim("tid", "tenant-1"));

        Assert.Equal("ip=203.0.113.7", Resolve("ClientIp", identity: identity));
        Assert.Equal("user=alice", Resolve("User", identity: identity));
        Assert.Equal("consumer=acme", Resolve("Consumer", identity: identity));
        Assert.Equal("tier=gold", Resolve("Tier", identity: identity));
        Assert.Equal("route=orders", Resolve("Route", identity: identity));
        Assert.Equal("global", Resolve("Global", identity: identity));
        Assert.Equal("header:x-tenant=t9", Resolve("Header:X-Tenant", headers: [("X-Tenant", "t9")]));
        Assert.Equal("claim:tid=tenant-1", Resolve("Claim:tid", identity: identity));
        Assert.Equal("user=alice&route=orders", Resolve("user, route", identity: identity));
    }

    [Fact]
    public void A_missing_identity_falls_back_to_the_client_ip_or_a_shared_counter_as_configured()
    {
        Assert.Equal("user!ip=203.0.113.7", Resolve("User"));
        Assert.Equal("consumer!ip=203.0.113.7", Resolve("Consumer", identity: Identity(consumer: null)));
        Assert.Equal("header:x-tenant!ip=203.0.113.7", Resolve("Header:X-Tenant"));
        Assert.Equal("claim:tid!ip=203.0.113.7", Resolve("Claim:tid", identity: Identity()));
        Assert.Equal("user!", Resolve("User", missing: MissingKeyBehavior.Shared));
        Assert.Equal("user!", Resolve("User", client: "198.51.100.1", missing: MissingKeyBehavior.Shared));
    }

    [Fact]
    public void A_value_cannot_forge_another_partition_nor_the_missing_marker()
    {
        // Escaped: a header value that looks like a composite key or a missing marker stays one opaque value.
        Assert.Equal("header:x-k=a%26user%3Dbob", Resolve("Header:X-K", headers: [("X-K", "a&user=bob")]));
        Assert.NotEqual(Resolve("User"), Resolve("User", identity: Identity(user: "!ip=203.0.113.7")));
        Assert.NotEqual(Resolve("Header:X-K,User", headers: [("X-K", "a&user=bob")], identity: Identity(user: "eve")),
            Resolve("Header:X-K,User", headers: [("X-K", "a")], identity: Identity(user: "bob")));
    }

    [Fact]
    public void Long_values_are_hashed_so_memory_per_partition_is_bounded()
    {
        var key = Resolve("Header:X-K", headers: [("X-K", new string('x', 10_000))]);

        Assert.StartsWith("header:x-k=#sha256-", key, StringComparison.Ordinal);
        Assert.True(key.Length < 100);
    }

    [Fact]
    public void IPv6_clients_are_counted_per_slash_64_so_rotating_addresses_does_not_dodge_the_limit()
    {
        Assert.Equal("ip=2001:db8:1:2::/64", Resolve("ClientIp", client: "2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
        Assert.Equal(Resolve("ClientIp", client: "2001:db8:1:2::1"), Resolve("ClientIp", client: "2001:db8:1:2:ffff::9"));
        Assert.NotEqual(Resolve("ClientIp", client: "2001:db8:1:2::1"), Resolve("ClientIp", client: "2001:db8:1:3::1"));
        Assert.Equal("ip=192.0.2.1", PartitionKeySpec.ClientIpKey(IPAddress.Parse("::ffff:192.0.2.1"), 64));
        Assert.Equal("ip=unknown", PartitionKeySpec.ClientIpKey(null, 64));
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("Ip", "'Ip' is not a partition key")]
    [InlineData("Header", "needs a name")]
    [InlineData("Header:Bad Name", "not a valid header name")]
    [InlineData("User:x", "takes no name")]
    [InlineData("User,User", "listed twice")]
    [InlineData("Global,User", "cannot be combined")]
    [InlineData("1", "not a partition key")]
    public void Bad_partition_keys_are_refused_with_a_reason(string text, string reason)
    {
        Assert.False(PartitionKeySpec.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
