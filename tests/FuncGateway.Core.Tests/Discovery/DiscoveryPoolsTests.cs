using System.Text.Json;
using FuncGateway.Configuration;
using FuncGateway.Discovery;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using FuncGateway.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Discovery;

/// <summary>
/// The discovery framework with a source of another kind (as the Consul and Kubernetes sources plug in): sources
/// created per pool and specification, started when their snapshot is published, their lists merged with the static
/// instances on the next build, and disposed when the pool goes.
/// </summary>
public sealed class DiscoveryPoolsTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);

    private readonly FakeFactory _factory = new();
    private readonly DiscoveryPools _pools;
    private readonly SnapshotBuilder _builder;
    private long _version;

    public DiscoveryPoolsTests()
    {
        var states = new InstanceStateRegistry();
        _pools = new DiscoveryPools([_factory], UpstreamAllowlist.Any, new FakeTimeProvider(Now), NullLogger<DiscoveryPools>.Instance, Microsoft.Extensions.Options.Options.Create(new DiscoveryOptions()));
        var policies = new LoadBalancingPolicyRegistry(
            [new RoundRobinPolicy(), new WeightedRoundRobinPolicy(), new LeastRequestsPolicy(), new PowerOfTwoChoicesPolicy(new Random(1)), new ConsistentHashPolicy()]);
        _builder = new SnapshotBuilder(
            RegistryFormat.Serializer, policies, TimeSpan.FromSeconds(100), null, states,
            poolCompilers: [new CircuitBreakerPoolCompiler(TimeProvider.System, NullLogger<InstanceBreaker>.Instance), new DiscoveryPoolCompiler(_pools)]);
    }

    private GatewaySnapshot Publish(params RegistryRow[] pools)
    {
        var snapshot = _builder.Build(new RegistryContent(pools, []), ++_version, Now);
        _pools.Published(snapshot);
        return snapshot;
    }

    private static RegistryRow Pool(string name, string instances = "[]", string discovery = """{"Source":"Fake","Service":"orders"}""") =>
        Upstream(name, instances, ("Discovery", discovery));

    private static string[] Urls(GatewaySnapshot snapshot, string pool) => [.. snapshot.Upstreams[pool].Instances.Select(i => $"{i.Url}#{i.Weight}")];

    [Fact]
    public async Task A_registered_factory_is_found_by_its_kind_in_any_case_and_its_instances_join_the_static_ones_on_the_next_build()
    {
        var first = Publish(Pool("orders", """["http://static:80"]"""));
        Assert.Equal(["http://static#1"], Urls(first, "orders"));
        var source = await _factory.StartedAsync("orders");

        await source.PublishAsync(new("http://10.0.0.2:8080", 3), new("http://STATIC:80/", 7), new("http://10.0.0.1:8080"));
        Assert.True(_pools.Changes.TryRead(out _));
        var second = Publish(Pool("orders", """["http://static:80"]"""));

        // Sorted by URL, the static instance keeps its own weight.
        Assert.Equal(["http://static#1", "http://10.0.0.1:8080#1", "http://10.0.0.2:8080#3"], Urls(second, "orders"));
        Assert.Equal(1, _factory.Created);
    }

    [Theory]
    [InlineData("RoundRobin")]
    [InlineData("WeightedRoundRobin")]
    [InlineData("LeastRequests")]
    [InlineData("PowerOfTwoChoices")]
    [InlineData("ConsistentHash")]
    public void A_pool_whose_source_has_found_nothing_yet_compiles_empty_with_every_balancing_strategy(string policy)
    {
        var snapshot = Publish(Upstream("orders", "[]", ("Discovery", """{"Source":"fake","Service":"orders"}"""), ("LoadBalancing", policy)));

        Assert.Empty(snapshot.Rejected);
        Assert.Empty(snapshot.Upstreams["orders"].Instances);
    }

    [Fact]
    public async Task A_discovered_instance_keeps_its_breaker_across_rebuilds_like_a_static_one()
    {
        Publish(Pool("orders"));
        var source = await _factory.StartedAsync("orders");
        await source.PublishAsync(new DiscoveredInstance("http://10.0.0.1:8080"));
        var first = Publish(Pool("orders"));
        await source.PublishAsync(new DiscoveredInstance("http://10.0.0.1:8080"), new DiscoveredInstance("http://10.0.0.2:8080"));
        var second = Publish(Pool("orders"));

        var before = first.Upstreams["orders"].Instances.Single();
        var after = second.Upstreams["orders"].Instances.Single(i => i.Url == before.Url);
        Assert.Same(before.State, after.State);
        Assert.Same(before.GetFeature<InstanceBreaker>(), after.GetFeature<InstanceBreaker>());
        Assert.NotNull(after.GetFeature<InstanceBreaker>());
    }

    [Fact]
    public async Task Unusable_instances_are_skipped_with_the_reason_and_the_same_list_asks_for_no_rebuild()
    {
        Publish(Pool("orders"));
        var source = await _factory.StartedAsync("orders");
        await source.PublishAsync(
            new("http://10.0.0.1:8080"), new("http://169.254.169.254"), new("ftp://10.0.0.3"), new("http://10.0.0.4", 0), new("http://10.0.0.5", 1, 65_536));
        Assert.True(_pools.Changes.TryRead(out _));
        var snapshot = Publish(Pool("orders"));

        Assert.Equal(["http://10.0.0.1:8080#1"], Urls(snapshot, "orders"));
        var skipped = snapshot.Upstreams["orders"].Discovery!.Entry.Skipped;
        Assert.Equal(4, skipped.Length);
        Assert.Contains(skipped, s => s.Url == "http://169.254.169.254" && s.Reason.Contains("metadata", StringComparison.Ordinal));
        Assert.Contains(skipped, s => s.Url == "http://10.0.0.5" && s.Reason == "priority 65536 is outside 0–65535.");

        await source.PublishAsync(new DiscoveredInstance("http://10.0.0.1:8080"));
        Assert.False(_pools.Changes.TryRead(out _));
    }

    [Fact]
    public async Task Discovered_priorities_reach_the_pools_instances_and_static_instances_are_priority_0()
    {
        Publish(Pool("orders", instances: "[\"http://10.0.0.9:8080\"]"));
        var source = await _factory.StartedAsync("orders");
        await source.PublishAsync(new("http://10.0.0.1:8080", 1, 0), new("http://10.0.0.2:8080", 5, 10));
        var pool = Publish(Pool("orders", instances: "[\"http://10.0.0.9:8080\"]")).Upstreams["orders"];

        Assert.Equal(
            ["http://10.0.0.1:8080 0", "http://10.0.0.2:8080 10", "http://10.0.0.9:8080 0"],
            pool.Instances.Select(static i => $"{i.Url} {i.Priority}").Order());
    }

    [Fact]
    public async Task A_pool_that_goes_or_changes_its_specification_disposes_its_source_and_an_unchanged_one_keeps_it()
    {
        Publish(Pool("orders"), Pool("billing"));
        var orders = await _factory.StartedAsync("orders");
        var billing = await _factory.StartedAsync("billing");

        Publish(Pool("orders"), Pool("billing", discovery: """{"Source":"fake","Service":"billing-v2"}"""));
        Assert.False(orders.Disposed);
        await billing.DisposedAsync();
        var billingV2 = await _factory.StartedAsync("billing", "billing-v2");

        Publish(Pool("billing", discovery: """{"Source":"fake","Service":"billing-v2"}"""));
        await orders.DisposedAsync();
        Assert.False(billingV2.Disposed);
        Assert.Equal(3, _factory.Created);
    }

    [Fact]
    public void An_unknown_kind_or_a_refused_specification_rejects_the_pool_with_the_reasons()
    {
        var snapshot = Publish(Pool("unknown", discovery: """{"Source":"dns"}"""), Pool("refused", discovery: """{"Source":"fake"}"""));

        Assert.Empty(snapshot.Upstreams);
        var reasons = snapshot.Rejected.ToDictionary(r => r.RowKey, r => string.Join(" ", r.Errors));
        Assert.Contains("Discovery: unknown Source 'dns'. Known: fake.", reasons["unknown"]);
        Assert.Contains("Discovery (fake): \"Service\" is required.", reasons["refused"]);
        Assert.Equal(0, _factory.Created);
    }

    public async ValueTask DisposeAsync() => await _pools.DisposeAsync();

    private sealed class FakeFactory : IDiscoverySourceFactory
    {
        private readonly List<FakeSource> _sources = [];

        public string Kind => "fake";

        public int Created => _sources.Count;

        public IDiscoverySource? Create(string poolName, JsonElement specification, List<string> errors)
        {
            if (!specification.TryGetProperty("Service", out var service))
            {
                errors.Add("Discovery (fake): \"Service\" is required.");
                return null;
            }

            var source = new FakeSource(poolName, service.GetString()!);
            lock (_sources)
            {
                _sources.Add(source);
            }

            return source;
        }

        public async Task<FakeSource> StartedAsync(string pool, string? service = null)
        {
            FakeSource source;
            lock (_sources)
            {
                source = _sources.Last(s => s.Pool == pool && (service is null || s.Service == service));
            }

            await source.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
            return source;
        }
    }

    private sealed class FakeSource(string pool, string service) : IDiscoverySource
    {
        private Func<IReadOnlyList<DiscoveredInstance>, ValueTask>? _publish;
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Pool { get; } = pool;

        public string Service { get; } = service;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Disposed => _disposed.Task.IsCompleted;

        public async Task WatchAsync(Func<IReadOnlyList<DiscoveredInstance>, ValueTask> publish, CancellationToken cancellationToken)
        {
            _publish = publish;
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public ValueTask PublishAsync(params DiscoveredInstance[] instances) => _publish!(instances);

        public Task DisposedAsync() => _disposed.Task.WaitAsync(TimeSpan.FromSeconds(10));

        public ValueTask DisposeAsync()
        {
            _disposed.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }
}
