using FuncGateway.Model;
using System.Net;
using FuncGateway.LoadBalancing;

namespace FuncGateway.Core.Tests.LoadBalancing;

public class ConsistentHashPolicyTests
{
    private static readonly IPAddress[] Clients = Enumerable.Range(0, 10_000)
        .Select(i => new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]))
        .ToArray();

    private static Dictionary<IPAddress, string> Assign(UpstreamPool pool, IReadOnlyList<UpstreamInstance>? available = null) =>
        Clients.ToDictionary(c => c, c => pool.Policy.PickInstance(TestPools.Request(c), pool, available ?? pool.AllInstances)!.Url);

    [Fact]
    public void The_same_key_always_gets_the_same_instance_and_keys_spread_over_all()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.ConsistentHash, TestPools.Instances(4));

        var first = Assign(pool);
        var second = Assign(TestPools.Create(LoadBalancingPolicies.ConsistentHash, TestPools.Instances(4)));

        Assert.Equal(first, second);
        foreach (var instance in pool.Instances)
        {
            // 2,500 expected each; 160 virtual nodes keep the spread within about ±20%.
            Assert.InRange(first.Values.Count(v => v == instance.Url), 1_800, 3_200);
        }
    }

    [Fact]
    public void Adding_an_instance_moves_about_one_in_n_keys_all_of_them_to_the_new_instance()
    {
        var before = Assign(TestPools.Create(LoadBalancingPolicies.ConsistentHash, TestPools.Instances(4)));
        var afterPool = TestPools.Create(LoadBalancingPolicies.ConsistentHash, TestPools.Instances(5));
        var after = Assign(afterPool);

        var moved = Clients.Where(c => before[c] != after[c]).ToList();

        Assert.InRange(moved.Count / (double)Clients.Length, 0.14, 0.26);
        Assert.All(moved, c => Assert.Equal(afterPool.Instances[4].Url, after[c]));
    }

    [Fact]
    public void Removing_an_instance_or_losing_it_to_an_outage_moves_only_its_own_keys()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.ConsistentHash, TestPools.Instances(5));
        var before = Assign(pool);
        var down = pool.Instances[2];

        var during = Assign(pool, pool.Instances.Where(i => i != down).ToArray());
        var removed = Assign(TestPools.Create(LoadBalancingPolicies.ConsistentHash, TestPools.Instances(5).Where(i => i.Item1 != down.Url).ToArray()));

        Assert.All(Clients.Where(c => before[c] != down.Url), c => Assert.Equal(before[c], during[c]));
        Assert.All(Clients.Where(c => before[c] != down.Url), c => Assert.Equal(before[c], removed[c]));
        Assert.DoesNotContain(down.Url, during.Values);
        Assert.Equal(during, removed);
    }

    [Fact]
    public void A_header_key_is_sticky_and_a_request_without_it_falls_back_to_the_client_address()
    {
        Assert.True(HashKeySelector.TryParse("Header:X-User", out var selector, out _));
        var pool = TestPools.Create(LoadBalancingPolicies.ConsistentHash, selector, TestPools.Instances(8));
        var client = IPAddress.Parse("192.0.2.7");

        var users = Enumerable.Range(0, 200).Select(i => "user-" + i).ToArray();
        var picks = users.Select(u => pool.Policy.PickInstance(TestPools.Request(client, "X-User", u), pool, pool.AllInstances)!.Url).ToArray();
        var again = users.Select(u => pool.Policy.PickInstance(TestPools.Request(IPAddress.Parse("198.51.100.1"), "X-User", u), pool, pool.AllInstances)!.Url).ToArray();
        var noHeader = pool.Policy.PickInstance(TestPools.Request(client), pool, pool.AllInstances)!.Url;

        Assert.Equal(picks, again);
        Assert.True(picks.Distinct().Count() >= 6, "different users spread over the instances");
        Assert.Equal(pool.Policy.PickInstance(TestPools.Request(client), pool, pool.AllInstances)!.Url, noHeader);
    }

    [Fact]
    public void A_claim_key_hashes_the_caller_s_claim()
    {
        Assert.True(HashKeySelector.TryParse("Claim:sub", out var selector, out _));
        var pool = TestPools.Create(LoadBalancingPolicies.ConsistentHash, selector, TestPools.Instances(8));

        var picks = Enumerable.Range(0, 50)
            .Select(i => pool.Policy.PickInstance(TestPools.Request(IPAddress.Parse($"203.0.113.{i}"), claimType: "sub", claimValue: "alice"), pool, pool.AllInstances)!.Url)
            .Distinct();

        Assert.Single(picks);
    }

    [Fact]
    public void The_hash_is_stable_across_processes()
    {
        // A per-process seeded hash (string.GetHashCode, HashCode) would send the same key to different instances
        // from different gateway instances; this value (FNV-1a 64 of the UTF-16LE bytes, MurmurHash3 finalizer) must never change.
        Assert.Equal(0x16174917a11ba601UL, StableHash.Of("user-42"));
    }

    [Theory]
    [InlineData("ClientIp", true)]
    [InlineData("header:X-Tenant", true)]
    [InlineData("Claim:tid", true)]
    [InlineData("Header:", false)]
    [InlineData("Header:bad header", false)]
    [InlineData("Cookie:session", false)]
    public void Hash_keys_are_client_ip_a_header_or_a_claim(string text, bool valid)
    {
        Assert.Equal(valid, HashKeySelector.TryParse(text, out _, out var error));
        Assert.Equal(valid, error.Length == 0);
    }
}
