using FuncGateway.Core.Tests.Configuration;
using FuncGateway.Model;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.Resilience;
using Microsoft.Extensions.Time.Testing;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Resilience;

public class InstanceStateRegistryTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private readonly InstanceStateRegistry _states = new();
    private readonly SnapshotBuilder _builder;
    private long _version;

    public InstanceStateRegistryTests()
    {
        _builder = new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([]), TimeSpan.FromSeconds(100), null, _states, poolCompilers: TestCompilers.Pools(_states, new FakeTimeProvider(Now)));
    }

    private GatewaySnapshot Build(string instances, string? breaker = null, params RegistryRow[] routes)
    {
        var pool = breaker is null ? Upstream("orders", instances) : Upstream("orders", instances, ("CircuitBreaker", breaker));
        return _builder.Build(new RegistryContent([pool], [Route("orders", "/orders", "orders"), .. routes]), ++_version, Now);
    }

    [Fact]
    public void A_reload_that_leaves_an_instance_unchanged_keeps_its_breaker_and_state()
    {
        var first = Build("""["http://a","http://b"]""");
        var second = Build("""["http://a","http://b","http://c"]""", null, Route("other", "/other", "http://d"));

        Assert.NotSame(first.Upstreams["orders"], second.Upstreams["orders"]);
        Assert.Same(first.Upstreams["orders"].Instances[0].Breaker, second.Upstreams["orders"].Instances[0].Breaker);
        Assert.Same(first.Upstreams["orders"].Instances[1].State, second.Upstreams["orders"].Instances[1].State);
    }

    [Fact]
    public void Changed_breaker_settings_give_a_new_breaker_but_keep_the_rest_of_the_state()
    {
        var first = Build("""["http://a"]""");
        var second = Build("""["http://a"]""", """{"breakSeconds":30}""");

        var before = first.Upstreams["orders"].Instances[0];
        var after = second.Upstreams["orders"].Instances[0];
        Assert.NotSame(before.Breaker, after.Breaker);
        Assert.Equal(TimeSpan.FromSeconds(30), after.Breaker.Settings.BreakDuration);
        Assert.Same(before.State, after.State);
    }

    [Fact]
    public void A_disabled_breaker_is_the_shared_never_open_one()
    {
        var snapshot = Build("""["http://a"]""", """{"enabled":false}""");

        Assert.Same(InstanceBreaker.Disabled, snapshot.Upstreams["orders"].Instances[0].Breaker);
    }

    [Fact]
    public void An_inline_upstream_keeps_its_breaker_across_reloads()
    {
        var first = Build("""["http://a"]""", null, Route("inline", "/inline", "http://10.9.9.9:81"));
        var second = Build("""["http://a"]""", null, Route("inline", "/inline", "http://10.9.9.9:81"), Route("x", "/x", "http://e"));

        Assert.Same(Inline(first).Instances[0].Breaker, Inline(second).Instances[0].Breaker);

        static UpstreamPool Inline(GatewaySnapshot s) => s.Routes.Single(r => r.Definition.Id == "inline").Pool;
    }

    [Fact]
    public void An_instance_that_leaves_the_registry_starts_fresh_if_it_comes_back_later()
    {
        var first = Build("""["http://a","http://b"]""");
        Build("""["http://a"]""");
        Build("""["http://a"]""");
        var back = Build("""["http://a","http://b"]""");

        Assert.NotSame(first.Upstreams["orders"].Instances[1].State, back.Upstreams["orders"].Instances[1].State);
        Assert.Same(first.Upstreams["orders"].Instances[0].State, back.Upstreams["orders"].Instances[0].State);
    }
}
