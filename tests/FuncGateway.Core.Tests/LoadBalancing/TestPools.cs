using System.Collections.Frozen;
using FuncGateway.Model;
using System.Collections.Immutable;
using System.Net;
using System.Security.Claims;
using FuncGateway.LoadBalancing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FuncGateway.Core.Tests.LoadBalancing;

/// <summary>Pools and requests for driving load-balancing policies directly.</summary>
internal static class TestPools
{
    public static UpstreamPool Create(string policy, params (string Url, int Weight)[] instances) => Create(policy, null, instances);

    public static UpstreamPool Create(string policy, HashKeySelector? hashKey, params (string Url, int Weight)[] instances)
    {
        Assert.True(new LoadBalancingPolicyRegistry([], new Random(42)).TryGet(policy, out var p));
        var list = instances.Select(i => new UpstreamInstance(i.Url, i.Weight, new InstanceState("pool", i.Url))).ToImmutableArray();
        return new UpstreamPool("pool", list, p, hashKey is null ? null : new Dictionary<Type, object> { [typeof(HashKeySelector)] = hashKey }.ToFrozenDictionary());
    }

    public static (string, int)[] Instances(int count, int weight = 1) =>
        Enumerable.Range(1, count).Select(i => ($"http://10.0.0.{i}:8080", weight)).ToArray();

    public static HttpContext Request(IPAddress? client = null, string? header = null, string? headerValue = null, string? claimType = null, string? claimValue = null)
    {
        var context = new DefaultHttpContext();
        var feature = new GatewayRequestFeature(null!, new RouteValueDictionary()) { ClientAddress = client };
        if (claimType is not null)
        {
            feature.Identity = new GatewayIdentity("test", null, null, null, new ClaimsPrincipal(new ClaimsIdentity([new Claim(claimType, claimValue!)], "test")));
        }

        if (header is not null)
        {
            context.Request.Headers[header] = headerValue;
        }

        context.Features.Set(feature);
        return context;
    }

    /// <summary>Picks <paramref name="count"/> times from the whole pool and counts per instance URL.</summary>
    public static Dictionary<string, int> Distribution(UpstreamPool pool, int count, IReadOnlyList<UpstreamInstance>? available = null)
    {
        var context = Request(IPAddress.Loopback);
        var counts = pool.Instances.ToDictionary(i => i.Url, _ => 0);
        for (var i = 0; i < count; i++)
        {
            counts[pool.Policy.PickInstance(context, pool, available ?? pool.AllInstances)!.Url]++;
        }

        return counts;
    }
}
