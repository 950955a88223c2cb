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

    private GatewayRegistry CreateRegistry(double startupWaitSeconds = 10, Action? compact = null, ISnapshotPublishedListener? listener = null) =>
        new(_store,
            new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100), poolCompilers: TestCompilers.Pools(new InstanceStateRegistry())),
            _time,
            Options.Create(new GatewayOptions { Registry = new RegistryOptions { StartupWaitSeconds = startupWaitSeconds, RefreshIntervalSeconds = 5 } }),
            NullLogger<GatewayRegistry>.Instance,
            listener is null ? null : [listener]) { CompactHeap = compact ?? (static () => { }) };

    [Fact]
    public async Task The_rows_are_kept_for_a_rebuild_only_while_a_listener_may_ask_for_one()
    {
        _store.Content = new RegistryContent([], [Route("a", "/a", "http://10.0.0.1")]);
        var listener = new RebuildListener();
        using var registry = CreateRegistry(listener: listener);
        await registry.ReloadAsync(false, CancellationToken.None);
        var first = registry.Current!;

        // Nothing outside the tables feeds this snapshot: its rows were not kept, and a rebuild does nothing.
        await registry.RebuildAsync(CancellationToken.None);
        Assert.Same(first, registry.Current);
        Assert.Equal(first.Version, registry.Status.SnapshotVersion);

        // A listener that may ask (discovery, for a discovered pool): the next build keeps its rows and a rebuild
        // publishes a new snapshot of the same routes without reading the store.
        listener.Rebuilds = true;
        await registry.ReloadAsync(force: true, CancellationToken.None);
        var second = registry.Current!;
        var reads = _store.Polls;
        await registry.RebuildAsync(CancellationToken.None);
        Assert.NotSame(second, registry.Current);
        Assert.Equal(second.Version + 1, registry.Current!.Version);
        Assert.Equal(["a"], registry.Current.Routes.Select(r => r.Definition.Id));
        Assert.Equal(reads, _store.Polls);
    }

    private sealed class RebuildListener : ISnapshotPublishedListener
    {
        public bool Rebuilds { get; set; }

        public void Published(GatewaySnapshot snapshot)
        {
        }

        public bool MayRebuild(GatewaySnapshot snapshot) => Rebuilds;
    }

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
    public async Task A_poll_that_finds_nothing_changed_reads_keys_and_etags_only_and_any_change_is_read_in_full()
    {
        var a = Route("a", "/a", "http://10.0.0.1");
        _store.Content = new RegistryContent([], [a]);
        using var registry = CreateRegistry();
        await registry.ReloadAsync(false, CancellationToken.None);
        var first = registry.Current;
        Assert.Equal((1, 0), (_store.Reads, _store.KeyReads)); // nothing to compare with yet: a full read

        await registry.ReloadAsync(false, CancellationToken.None);
        await registry.ReloadAsync(false, CancellationToken.None);
        Assert.Equal((1, 2), (_store.Reads, _store.KeyReads));
        Assert.Same(first, registry.Current);

        // A write changes the row's ETag (here with the same properties): the keys differ, so everything is read.
        _store.Content = new RegistryContent([], [a with { ETag = "W/\"changed\"" }]);
        await registry.ReloadAsync(false, CancellationToken.None);
        Assert.Equal((2, 3), (_store.Reads, _store.KeyReads));
        Assert.NotSame(first, registry.Current);

        // A removed row, and a new row in another table, are seen the same way.
        _store.Content = new RegistryContent([], []);
        await registry.ReloadAsync(false, CancellationToken.None);
        Assert.Empty(registry.Current!.Routes);
        _store.Content = new RegistryContent([], []) { Schemas = [Row(RegistryTable.Schemas, "default", "s", ("Schema", "{}"))] };
        await registry.ReloadAsync(false, CancellationToken.None);
        Assert.Equal((4, 5), (_store.Reads, _store.KeyReads));
    }

    [Fact]
    public async Task A_store_without_keys_only_reads_and_a_forced_reload_always_read_everything()
    {
        _store.Content = new RegistryContent([], [Route("a", "/a", "http://10.0.0.1")]);
        using var registry = CreateRegistry();
        await registry.ReloadAsync(false, CancellationToken.None);
        await registry.ReloadAsync(force: true, CancellationToken.None);
        Assert.Equal((2, 0), (_store.Reads, _store.KeyReads));

        _store.SupportsKeys = false;
        var before = registry.Current;
        await registry.ReloadAsync(false, CancellationToken.None);
        Assert.Equal(3, _store.Reads);
        Assert.Same(before, registry.Current); // read in full, found unchanged by its fingerprint
    }

    [Fact]
    public async Task A_failed_keys_only_read_keeps_the_snapshot_and_reports_the_error_like_a_failed_full_read()
    {
        _store.Content = new RegistryContent([], [Route("a", "/a", "http://10.0.0.1")]);
        using var registry = CreateRegistry();
        await registry.ReloadAsync(false, CancellationToken.None);
        var good = registry.Current;

        _store.Failure = new RegistryStoreException("Could not read table 'GatewayUpstreams': storage answered 503 ServerBusy.");
        var status = await registry.ReloadAsync(false, CancellationToken.None);

        Assert.Same(good, registry.Current);
        Assert.Equal(1, _store.Reads);
        Assert.Contains("ServerBusy", status.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_first_snapshot_of_a_large_registry_is_followed_by_one_heap_compaction_and_a_small_one_by_none()
    {
        var compactions = 0;
        var large = Enumerable.Range(0, GatewayRegistry.CompactAfterFirstSnapshotRows).Select(i => Route($"r{i}", $"/r{i}", "http://10.0.0.1")).ToList();
        _store.Content = new RegistryContent([], large);
        using (var registry = CreateRegistry(compact: () => compactions++))
        {
            await registry.ReloadAsync(false, CancellationToken.None);
            Assert.Equal(GatewayRegistry.CompactAfterFirstSnapshotRows, registry.Current!.Routes.Length);
            Assert.Equal(1, compactions);

            // Later snapshots, changed or forced, leave less behind than a whole start-up: no pause for them.
            _store.Content = new RegistryContent([], [.. large.Skip(1)]);
            await registry.ReloadAsync(false, CancellationToken.None);
            await registry.ReloadAsync(force: true, CancellationToken.None);
            Assert.Equal(1, compactions);
        }

        _store.Content = new RegistryContent([], [.. large.Skip(1)]);
        using (var small = CreateRegistry(compact: () => compactions++))
        {
            await small.ReloadAsync(false, CancellationToken.None);
            Assert.Equal(1, compactions);
        }
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
        await WaitForAsync(() => _store.Polls == 1);

        // Advance only once the loader waits on its interval; advancing before that would be lost (a flaky race).
        await WaitForAsync(() => _time.TimersCreated > timers);
        _time.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(50);
        Assert.Equal(1, _store.Polls);
        _time.Advance(TimeSpan.FromSeconds(1));
        await WaitForAsync(() => _store.Polls == 2);
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
        private int _keyReads;

        public RegistryContent Content { get; set; } = new([], []);

        public Exception? Failure { get; set; }

        public bool TablesEnsured { get; private set; }

        public int Reads => Volatile.Read(ref _reads);

        /// <summary>Whether the store offers keys-only reads (Table Storage does); with false, it is a store without ETags.</summary>
        public bool SupportsKeys { get; set; } = true;

        public int KeyReads => Volatile.Read(ref _keyReads);

        /// <summary>Every poll, keys-only or full.</summary>
        public int Polls => Reads + KeyReads;

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

        public Task<string?> ReadFingerprintAsync(CancellationToken cancellationToken = default)
        {
            if (!SupportsKeys)
            {
                return Task.FromResult<string?>(null);
            }

            Interlocked.Increment(ref _keyReads);
            if (Failure is not null)
            {
                return Task.FromException<string?>(Failure);
            }

            // What a keys-only read sees: each row's table, keys and ETag, none of its properties.
            using var fingerprint = new RegistryFingerprint();
            foreach (var row in Content.Upstreams.Concat(Content.Routes).Concat(Content.Schemas))
            {
                fingerprint.Add(row.Table, row.PartitionKey, row.RowKey, row.ETag);
            }

            return Task.FromResult<string?>(fingerprint.Finish());
        }

        public Task<RegistryWriteResult> ApplyAsync(IReadOnlyList<RegistryWrite> writes, bool force = false, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
