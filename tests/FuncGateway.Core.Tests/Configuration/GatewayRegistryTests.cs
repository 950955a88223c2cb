using FuncGateway.Model;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Configuration;

public class GatewayRegistryTests
{
    private readonly TimerCountingTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeRegistryStore _store = new();

    private GatewayRegistry CreateRegistry(double startupWaitSeconds = 10) =>
        new(_store,
            new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100), poolCompilers: TestCompilers.Pools(new InstanceStateRegistry())),
            _time,
            Options.Create(new GatewayOptions { Registry = new RegistryOptions { StartupWaitSeconds = startupWaitSeconds, RefreshIntervalSeconds = 5 } }),
            NullLogger<GatewayRegistry>.Instance);

    [Fact]
    public async Task First_read_creates_the_tables_and_publishes_a_snapshot()
    {
        _store.Content = new RegistryContent([], [Route("a", "/a", "http://10.0.0.1")]);
        using var registry = CreateRegistry();

        var status = await registry.ReloadAsync(force: false, CancellationToken.None);

        Assert.True(_store.TablesEnsured);
        Assert.Null(status.LastError);
        Assert.Equal("a", Assert.Single(registry.Current!.Routes).Definition.Id);
    }

    [Fact]
    public async Task An_unchanged_registry_keeps_the_same_snapshot_and_a_change_swaps_it()
    {
        _store.Content = new RegistryContent([], [Route("a", "/a", "http://10.0.0.1")]);
        using var registry = CreateRegistry();
        await registry.ReloadAsync(false, CancellationToken.None);
        var first = registry.Current;

        await registry.ReloadAsync(false, CancellationToken.None);
        Assert.Same(first, registry.Current);

        _store.Content = new RegistryContent([], [Route("a", "/a", "http://10.0.0.1"), Route("b", "/b", "http://10.0.0.2")]);
        await registry.ReloadAsync(false, CancellationToken.None);

        Assert.NotSame(first, registry.Current);
        Assert.Equal(first!.Version + 1, registry.Current!.Version);
        Assert.Equal(["a", "b"], registry.Current.Routes.Select(r => r.Definition.Id));
        Assert.Single(first.Routes); // the old snapshot is untouched: requests in flight keep a consistent view
    }

    [Fact]
    public async Task Forced_reload_rebuilds_even_when_nothing_changed()
    {
        _store.Content = new RegistryContent([], [Route("a", "/a", "http://10.0.0.1")]);
        using var registry = CreateRegistry();
        await registry.ReloadAsync(false, CancellationToken.None);
        var first = registry.Current!;

        await registry.ReloadAsync(force: true, CancellationToken.None);

        Assert.Equal(first.Version + 1, registry.Current!.Version);
    }

    [Fact]
    public async Task A_storage_outage_keeps_the_last_good_snapshot_and_reports_the_error()
    {
        _store.Content = new RegistryContent([], [Route("a", "/a", "http://10.0.0.1")]);
        using var registry = CreateRegistry();
        await registry.ReloadAsync(false, CancellationToken.None);
        var good = registry.Current;

        _store.Failure = new RegistryStoreException("Could not read table 'GatewayRoutes': storage unreachable (Connection refused).");
        _time.Advance(TimeSpan.FromSeconds(5));
        var status = await registry.ReloadAsync(false, CancellationToken.None);

        Assert.Same(good, registry.Current);
        Assert.Contains("Connection refused", status.LastError, StringComparison.Ordinal);
        Assert.Equal(_time.GetUtcNow(), status.LastAttemptAt);
        Assert.Equal(good!.LoadedAt, status.LastSuccessAt);

        _store.Failure = null;
        var recovered = await registry.ReloadAsync(false, CancellationToken.None);
        Assert.Null(recovered.LastError);
    }

    [Fact]
    public async Task An_unexpected_store_failure_keeps_the_last_good_snapshot_instead_of_escaping()
    {
        _store.Content = new RegistryContent([], [Route("a", "/a", "http://10.0.0.1")]);
        using var registry = CreateRegistry();
        await registry.ReloadAsync(false, CancellationToken.None);
        var good = registry.Current;

        _store.Failure = new InvalidOperationException("a bug in the store");
        var status = await registry.ReloadAsync(force: true, CancellationToken.None);

        Assert.Same(good, registry.Current);
        Assert.Equal("Reading the registry failed unexpectedly: InvalidOperationException", status.LastError);
    }

    [Fact]
    public async Task With_no_storage_and_no_snapshot_requests_get_no_snapshot_after_the_startup_wait()
    {
        _store.Failure = new RegistryStoreException("No storage configured.");
        using var registry = CreateRegistry(startupWaitSeconds: 10);
        await registry.ReloadAsync(false, CancellationToken.None);

        var waiting = registry.GetSnapshotAsync(CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Null(await waiting);
    }

    [Fact]
    public async Task A_request_during_cold_start_waits_for_the_first_snapshot()
    {
        using var registry = CreateRegistry(startupWaitSeconds: 10);
        var waiting = registry.GetSnapshotAsync(CancellationToken.None).AsTask();

        _store.Content = new RegistryContent([], [Route("a", "/a", "http://10.0.0.1")]);
        await registry.ReloadAsync(false, CancellationToken.None);

        Assert.NotNull(await waiting);
    }

    [Fact]
    public async Task The_loader_service_rereads_every_interval()
    {
        _store.Content = new RegistryContent([], []);
        using var registry = CreateRegistry();
        using var service = new RegistryLoaderService(registry,
            Options.Create(new GatewayOptions { Registry = new RegistryOptions { RefreshIntervalSeconds = 5 } }), _time);

        var timers = _time.TimersCreated;
        await service.StartAsync(CancellationToken.None);
        await WaitForAsync(() => _store.Reads == 1);

        // Advance only once the loader waits on its interval; advancing before that would be lost (a flaky race).
        await WaitForAsync(() => _time.TimersCreated > timers);
        _time.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(50);
        Assert.Equal(1, _store.Reads);
        _time.Advance(TimeSpan.FromSeconds(1));
        await WaitForAsync(() => _store.Reads == 2);
        await service.StopAsync(CancellationToken.None);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    private sealed class TimerCountingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private int _timers;

        public int TimersCreated => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timers);
            return timer;
        }
    }

    private sealed class FakeRegistryStore : IRegistryStore
    {
        private int _reads;

        public RegistryContent Content { get; set; } = new([], []);

        public Exception? Failure { get; set; }

        public bool TablesEnsured { get; private set; }

        public int Reads => Volatile.Read(ref _reads);

        public Task EnsureTablesAsync(CancellationToken cancellationToken = default)
        {
            if (Failure is not null)
            {
                throw Failure;
            }

            TablesEnsured = true;
            return Task.CompletedTask;
        }

        public Task<RegistryContent> ReadAllAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reads);
            return Failure is null ? Task.FromResult(Content) : Task.FromException<RegistryContent>(Failure);
        }

        public Task<RegistryWriteResult> ApplyAsync(IReadOnlyList<RegistryWrite> writes, bool force = false, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
