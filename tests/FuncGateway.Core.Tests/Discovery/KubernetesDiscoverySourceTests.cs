using FuncGateway.Discovery.Kubernetes;
using FuncGateway.Testing.Discovery;
using k8s;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace FuncGateway.Core.Tests.Discovery;

/// <summary>
/// The Kubernetes source through the official client against a fake API server that speaks the list/watch protocol
/// (JSON watch events, resourceVersion, bookmarks, 410 Gone), reached through a generated kubeconfig with a bearer
/// token. No cluster runs here; the fake is what the tests can check against.
/// </summary>
public sealed class KubernetesDiscoverySourceTests : IAsyncLifetime
{
    private const string Token = "sa-token-7f3e";

    private readonly FakeKubernetesApi _api = new(Token);
    private readonly FakeLogCollector _logs = new();
    private readonly string _kubeconfig = Path.Combine(Path.GetTempPath(), $"fgw-kubeconfig-{Guid.NewGuid():N}.yaml");
    private readonly List<IDisposable> _factories = [];

    public async Task InitializeAsync()
    {
        await _api.StartAsync();
        await File.WriteAllTextAsync(_kubeconfig, FakeKubernetesApi.Kubeconfig(_api.Port, Token));
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        _factories.ForEach(static f => f.Dispose());
        File.Delete(_kubeconfig);
    }

    [Fact]
    public async Task Instances_appear_change_and_disappear_as_slices_are_added_modified_and_deleted()
    {
        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080), ("metrics", 9090)],
            new SliceEndpoint("10.0.0.1", Ready: true), new SliceEndpoint("10.0.0.2", Ready: false, Serving: false)));
        _api.Apply(FakeKubernetesApi.Slice("billing-a", "billing", "IPv4", [("http", 8080)], new SliceEndpoint("10.9.0.1")));
        await using var source = RunningSource.Start(CreateSource("orders", "http"));

        Assert.Equal(["http://10.0.0.1:8080"], await source.NextUrlsAsync());

        await WaitForWatchAsync();
        _api.Apply(FakeKubernetesApi.Slice("orders-b", "orders", "IPv6", [("http", 8080)], new SliceEndpoint("fd00::5")));
        Assert.Equal(["http://10.0.0.1:8080", "http://[fd00::5]:8080"], await source.NextUrlsAsync());

        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080), ("metrics", 9090)],
            new SliceEndpoint("10.0.0.1", Ready: true), new SliceEndpoint("10.0.0.2", Ready: true)));
        Assert.Equal(["http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://[fd00::5]:8080"], await source.NextUrlsAsync());

        _api.Delete("orders-b");
        Assert.Equal(["http://10.0.0.1:8080", "http://10.0.0.2:8080"], await source.NextUrlsAsync());

        // One list, then watches from its resourceVersion, all for the Service's label.
        Assert.Equal(1, _api.Lists);
        Assert.All(_api.Requests, static r => Assert.Contains("labelSelector=kubernetes.io%2Fservice-name%3Dorders", r.Query, StringComparison.Ordinal));
        Assert.Contains(_api.Requests, static r => r.Watch && r.Query.Contains("resourceVersion=102", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_closed_watch_resumes_from_the_last_bookmark_without_listing_again()
    {
        await using var source = await StartWatchingOneInstanceAsync();

        // Another Service's change moves the resourceVersion without an event for this watch; the bookmark carries it.
        _api.Apply(FakeKubernetesApi.Slice("billing-a", "billing", "IPv4", [("http", 8080)], new SliceEndpoint("10.9.0.1")));
        _api.Bookmark();
        var watchesBefore = _api.Requests.Count(static r => r.Watch);
        _api.EndWatches(withGoneEvent: false);

        await Eventually.TrueAsync(() => _api.Requests.Count(static r => r.Watch) > watchesBefore, "a new watch");
        Assert.Contains("resourceVersion=102", _api.Requests.Last(static r => r.Watch).Query, StringComparison.Ordinal);
        Assert.Equal(1, _api.Lists);
        Assert.True(source.NothingPublished);
    }

    [Fact]
    public async Task A_watch_the_server_ends_without_any_event_is_resumed_quietly_from_the_same_resource_version()
    {
        await using var source = await StartWatchingOneInstanceAsync();

        _api.EndWatches(withGoneEvent: false);
        await Eventually.TrueAsync(() => _api.Requests.Count(static r => r.Watch) == 2 && _api.OpenWatches == 1, "a second watch");
        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)], new SliceEndpoint("10.0.0.2")));

        Assert.Equal(["http://10.0.0.2:8080"], await source.NextUrlsAsync());
        Assert.All(_api.Requests.Where(static r => r.Watch), static r => Assert.Contains("resourceVersion=101", r.Query, StringComparison.Ordinal));
        Assert.Equal(1, _api.Lists);
        Assert.Equal(0, FakeLogs.Count(_logs, 9400));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_410_gone_as_an_error_event_or_an_http_status_lists_again_and_publishes_what_the_watch_missed(bool asErrorEvent)
    {
        await using var source = await StartWatchingOneInstanceAsync();

        _api.ApplyUnseen(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)], new SliceEndpoint("10.0.0.7")));
        _api.EndWatches(withGoneEvent: asErrorEvent);

        Assert.Equal(["http://10.0.0.7:8080"], await source.NextUrlsAsync());
        Assert.Equal(2, _api.Lists);
        Assert.Equal(0, FakeLogs.Count(_logs, 9400));
    }

    [Fact]
    public async Task An_api_server_answering_500_keeps_the_last_list_logs_once_and_its_recovery_publishes_the_new_list()
    {
        await using var source = await StartWatchingOneInstanceAsync();

        _api.FailWith = 500;
        var before = _api.Requests.Count;
        _api.EndWatches(withGoneEvent: false);
        await Eventually.TrueAsync(() => _api.Requests.Count >= before + 3, "three requests answered 500 (with backoff between them)");

        Assert.True(source.NothingPublished);
        FakeLogs.AssertOutage(_logs, 9400, "HTTP 500", instances: 1);

        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)], new SliceEndpoint("10.0.0.1"), new SliceEndpoint("10.0.0.2")));
        _api.FailWith = null;

        Assert.Equal(["http://10.0.0.1:8080", "http://10.0.0.2:8080"], await source.NextUrlsAsync());
        await FakeLogs.AssertRecoveredOnceAsync(_logs, 9400, 9401, Token);
    }

    [Fact]
    public async Task A_stopped_api_server_keeps_the_last_list_logs_once_and_the_restarted_server_s_list_is_published()
    {
        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)], new SliceEndpoint("10.0.0.1")));
        var attempts = new CountingHandler();
        using var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(_kubeconfig), attempts);
        await using var source = RunningSource.Start(new KubernetesDiscoverySource(
            "orders-pool", new KubernetesSpecification("shop", "orders", "http", "http"), client, TimeProvider.System, new FakeLogger(_logs)));
        Assert.Equal(["http://10.0.0.1:8080"], await source.NextUrlsAsync());
        await WaitForWatchAsync();

        await _api.StopAsync();
        var before = attempts.Attempts;
        await Eventually.TrueAsync(() => attempts.Attempts >= before + 3, "three attempts against the stopped server");

        Assert.True(source.NothingPublished);
        Assert.Equal(1, FakeLogs.Count(_logs, 9400));

        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)], new SliceEndpoint("10.0.0.3")));
        await _api.StartAsync();

        Assert.Equal(["http://10.0.0.3:8080"], await source.NextUrlsAsync());
        await FakeLogs.AssertRecoveredOnceAsync(_logs, 9400, 9401, Token);
    }

    [Fact]
    public async Task Terminating_endpoints_are_left_out_while_any_is_ready_and_drained_to_while_serving_when_none_is()
    {
        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)], new SliceEndpoint("10.0.0.1"), new SliceEndpoint("10.0.0.2")));
        await using var source = RunningSource.Start(CreateSource("orders", "http"));
        Assert.Equal(["http://10.0.0.1:8080", "http://10.0.0.2:8080"], await source.NextUrlsAsync());
        await WaitForWatchAsync();

        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)],
            new SliceEndpoint("10.0.0.1", Ready: false, Serving: true, Terminating: true), new SliceEndpoint("10.0.0.2", Ready: true)));
        Assert.Equal(["http://10.0.0.2:8080"], await source.NextUrlsAsync());

        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)],
            new SliceEndpoint("10.0.0.1", Ready: false, Serving: true, Terminating: true), new SliceEndpoint("10.0.0.2", Ready: false, Serving: true, Terminating: true)));
        Assert.Equal(["http://10.0.0.1:8080", "http://10.0.0.2:8080"], await source.NextUrlsAsync());

        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)],
            new SliceEndpoint("10.0.0.1", Ready: false, Serving: false, Terminating: true), new SliceEndpoint("10.0.0.2", Ready: false, Serving: false, Terminating: true)));
        Assert.Empty(await source.NextAsync());
    }

    [Fact]
    public async Task The_configured_context_is_used_instead_of_the_current_one()
    {
        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)], new SliceEndpoint("10.0.0.1")));
        var path = _kubeconfig + ".contexts.yaml";
        await File.WriteAllTextAsync(path, FakeKubernetesApi.Kubeconfig(_api.Port, Token, currentContextServerPort: LoopbackPortsWithNothing()));
        try
        {
            using var factory = Factory(path, "fake");
            var errors = new List<string>();
            await using var source = RunningSource.Start(factory.Create("orders-pool", Specification("orders", "http"), errors)!);

            Assert.Empty(errors);
            Assert.Equal(["http://10.0.0.1:8080"], await source.NextUrlsAsync());
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static System.Text.Json.JsonElement Specification(string service, string portName) =>
        System.Text.Json.JsonDocument.Parse($$"""{"Source":"kubernetes","Namespace":"shop","Service":"{{service}}","PortName":"{{portName}}","Scheme":"http"}""").RootElement;

    private static int LoopbackPortsWithNothing() => FuncGateway.Testing.LoopbackPorts.GetRefusing();

    private KubernetesDiscoverySourceFactory Factory(string kubeconfig, string? context = null) =>
        new(Options.Create(new KubernetesDiscoveryOptions { Kubeconfig = kubeconfig, Context = context }), TimeProvider.System, new FakeLogger<KubernetesDiscoverySource>(_logs));

    private KubernetesDiscoverySource CreateSource(string service, string portName)
    {
        var factory = Factory(_kubeconfig);
        _factories.Add(factory);
        var errors = new List<string>();
        var source = factory.Create("orders-pool", Specification(service, portName), errors);
        Assert.Empty(errors);
        return Assert.IsType<KubernetesDiscoverySource>(source);
    }

    private Task WaitForWatchAsync() => Eventually.TrueAsync(() => _api.OpenWatches == 1, "an open watch");

    /// <summary>A source of Service <c>orders</c> with one endpoint, <c>10.0.0.1:8080</c>, past its first list and watching.</summary>
    private async Task<RunningSource> StartWatchingOneInstanceAsync()
    {
        _api.Apply(FakeKubernetesApi.Slice("orders-a", "orders", "IPv4", [("http", 8080)], new SliceEndpoint("10.0.0.1")));
        var source = RunningSource.Start(CreateSource("orders", "http"));
        Assert.Equal(["http://10.0.0.1:8080"], await source.NextUrlsAsync());
        await WaitForWatchAsync();
        return source;
    }
}
