using System.Text.Json;
using FuncGateway.Discovery;
using FuncGateway.Discovery.Consul;
using FuncGateway.Testing.Discovery;
using Microsoft.Extensions.Logging.Testing;

namespace FuncGateway.Core.Tests.Discovery;

/// <summary>
/// The Consul source against a fake agent that holds blocking queries like Consul does: changes arrive through the
/// pending query (well before its 30 s wait), an outage keeps the last list and is logged once, recovery publishes.
/// </summary>
public sealed class ConsulDiscoverySourceTests : IAsyncLifetime
{
    private const string Token = "s3cr3t-acl-token";

    private readonly FakeConsul _consul = new(requiredToken: Token);
    private readonly FakeLogCollector _logs = new();
    private readonly CountingHandler _handler = new(new SocketsHttpHandler());
    private readonly HttpClient _http;

    public ConsulDiscoverySourceTests() => _http = new HttpClient(_handler) { Timeout = Timeout.InfiniteTimeSpan };

    public Task InitializeAsync() => _consul.StartAsync();

    public async Task DisposeAsync()
    {
        await _consul.DisposeAsync();
        _http.Dispose();
    }

    [Fact]
    public async Task Instances_appear_and_disappear_as_the_service_changes_each_change_answered_by_the_pending_blocking_query()
    {
        _consul.Set("orders", [new("n1", "10.0.0.1", "127.0.0.1", 8081), new("n2", "10.0.0.2", "127.0.0.2", 8082, Passing: false)]);
        await using var source = RunningSource.Start(Source(new ConsulSpecification("orders", "http", null, null)));

        Assert.Equal(["http://127.0.0.1:8081"], await source.NextUrlsAsync());

        await WaitForBlockingQueryAsync();
        _consul.Set("orders", [new("n1", "10.0.0.1", "127.0.0.1", 8081), new("n3", "10.0.0.3", "127.0.0.3", 8083)]);
        Assert.Equal(["http://127.0.0.1:8081", "http://127.0.0.3:8083"], await source.NextUrlsAsync());

        await WaitForBlockingQueryAsync();
        _consul.Set("orders", [new("n3", "10.0.0.3", "127.0.0.3", 8083)]);
        Assert.Equal(["http://127.0.0.3:8083"], await source.NextUrlsAsync());

        // Only passing instances were asked for, with the ACL token, and later queries blocked on the last index.
        var requests = _consul.Requests.ToArray();
        Assert.All(requests, static r => Assert.Contains("passing=true", r.Query, StringComparison.Ordinal));
        Assert.All(requests, static r => Assert.Equal(Token, r.Token));
        Assert.Contains(requests, static r => r.Query.Contains("&index=11&wait=30s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_blocking_query_that_times_out_unchanged_publishes_nothing_new()
    {
        _consul.Set("orders", [new("n1", "10.0.0.1", "127.0.0.1", 8081)]);
        await using var source = RunningSource.Start(Source(new ConsulSpecification("orders", "http", null, null), waitSeconds: 1));
        await source.NextAsync();

        var before = _consul.Requests.Count;
        await Eventually.TrueAsync(() => _consul.Requests.Count >= before + 2, "two blocking queries that timed out");
        _consul.Set("orders", [new("n2", "10.0.0.2", "127.0.0.2", 8082)]);

        Assert.Equal(["http://127.0.0.2:8082"], await source.NextUrlsAsync());
    }

    [Fact]
    public async Task Tag_and_datacenter_are_sent_and_only_tagged_instances_are_listed()
    {
        _consul.Set("orders", [new("n1", "10.0.0.1", "127.0.0.1", 8081, Tags: ["v2"]), new("n2", "10.0.0.2", "127.0.0.2", 8082, Tags: ["v1"])]);
        await using var source = RunningSource.Start(Source(new ConsulSpecification("orders", "https", "v2", "dc-west")));

        Assert.Equal(["https://127.0.0.1:8081"], await source.NextUrlsAsync());
        Assert.All(_consul.Requests, static r => Assert.Contains("passing=true&tag=v2&dc=dc-west", r.Query, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_agent_answering_500_keeps_the_last_list_logs_the_outage_once_and_its_recovery_publishes_the_new_list()
    {
        _consul.Set("orders", [new("n1", "10.0.0.1", "127.0.0.1", 8081)]);
        await using var source = RunningSource.Start(Source(new ConsulSpecification("orders", "http", null, null), waitSeconds: 1));
        Assert.Equal(["http://127.0.0.1:8081"], await source.NextUrlsAsync());

        _consul.FailWith = 500;
        var before = _consul.Requests.Count;
        await Eventually.TrueAsync(() => _consul.Requests.Count >= before + 3, "three queries answered 500 (with backoff between them)");

        Assert.True(source.NothingPublished);
        FakeLogs.AssertOutage(_logs, 9300, "HTTP 500", instances: 1);

        _consul.Set("orders", [new("n1", "10.0.0.1", "127.0.0.1", 8081), new("n2", "10.0.0.2", "127.0.0.2", 8082)]);
        _consul.FailWith = null;

        Assert.Equal(["http://127.0.0.1:8081", "http://127.0.0.2:8082"], await source.NextUrlsAsync());
        await FakeLogs.AssertRecoveredOnceAsync(_logs, 9300, 9301, Token);
    }

    [Fact]
    public async Task A_stopped_agent_keeps_the_last_list_logs_once_and_the_restarted_agent_s_list_is_published()
    {
        _consul.Set("orders", [new("n1", "10.0.0.1", "127.0.0.1", 8081)]);
        await using var source = RunningSource.Start(Source(new ConsulSpecification("orders", "http", null, null)));
        Assert.Equal(["http://127.0.0.1:8081"], await source.NextUrlsAsync());
        await WaitForBlockingQueryAsync();

        await _consul.StopAsync();
        var before = _handler.Attempts;
        await Eventually.TrueAsync(() => _handler.Attempts >= before + 3, "three attempts against the stopped agent");

        Assert.True(source.NothingPublished);
        Assert.Equal(1, FakeLogs.Count(_logs, 9300));

        _consul.Set("orders", [new("n2", "10.0.0.2", "127.0.0.2", 8082)]);
        await _consul.StartAsync();

        Assert.Equal(["http://127.0.0.2:8082"], await source.NextUrlsAsync());
        await FakeLogs.AssertRecoveredOnceAsync(_logs, 9300, 9301, Token);
    }

    [Fact]
    public async Task Without_the_acl_token_the_agent_refuses_and_the_refusal_is_logged()
    {
        _consul.Set("orders", [new("n1", "10.0.0.1", "127.0.0.1", 8081)]);
        await using var source = RunningSource.Start(Source(new ConsulSpecification("orders", "http", null, null), token: null));

        await Eventually.TrueAsync(() => FakeLogs.Count(_logs, 9300) == 1, "the refusal logged");
        Assert.Contains("HTTP 403", _logs.GetSnapshot().Single(static r => r.Id.Id == 9300).Message, StringComparison.Ordinal);
        Assert.True(source.NothingPublished);
        Assert.All(_consul.Requests, static r => Assert.Null(r.Token));
    }

    [Fact]
    public async Task An_index_that_goes_backwards_is_reset_to_zero_and_later_changes_still_arrive()
    {
        _consul.Set("orders", [new("n1", "10.0.0.1", "127.0.0.1", 8081)]);
        await using var source = RunningSource.Start(Source(new ConsulSpecification("orders", "http", null, null), waitSeconds: 1));
        await source.NextAsync();
        await WaitForBlockingQueryAsync();

        // A snapshot restore: the index drops from 11 to 5 and the instances change. (Requests are counted before the
        // change: the source may send its query from index 0 before this thread sees the published list.)
        var beforeReset = _consul.Requests.Count;
        _consul.Set("orders", [new("n2", "10.0.0.2", "127.0.0.2", 8082)], index: 5);
        Assert.Equal(["http://127.0.0.2:8082"], await source.NextUrlsAsync());
        await Eventually.TrueAsync(() => _consul.Requests.Skip(beforeReset).Any(static r => !r.Query.Contains("index=", StringComparison.Ordinal)), "a query from index 0");

        _consul.Set("orders", [new("n3", "10.0.0.3", "127.0.0.3", 8083)]);
        Assert.Equal(["http://127.0.0.3:8083"], await source.NextUrlsAsync());
    }

    [Fact]
    public void Entries_become_urls_from_the_service_address_or_the_node_s_with_clamped_weights()
    {
        using var answer = JsonDocument.Parse("""
            [
              {"Node":{"Node":"a","Address":"10.0.0.1"},"Service":{"Service":"orders","Address":"","Port":8080}},
              {"Node":{"Node":"b","Address":"10.0.0.2"},"Service":{"Service":"orders","Address":"fd00::2","Port":8080,"Weights":{"Passing":0,"Warning":1}}},
              {"Node":{"Node":"c","Address":"10.0.0.3"},"Service":{"Service":"orders","Address":"orders-3.internal","Port":9000,"Weights":{"Passing":5000,"Warning":1}}},
              {"Node":{"Node":"d","Address":"10.0.0.4"},"Service":{"Service":"orders","Address":"10.1.0.4","Port":8080,"Weights":{"Passing":7,"Warning":1}}},
              {"Node":{"Node":"e","Address":"10.0.0.5"},"Service":{"Service":"orders","Address":"10.1.0.5","Port":0}}
            ]
            """);

        var instances = ConsulDiscoverySource.Parse(answer.RootElement, "https");

        DiscoveredInstance[] expected =
        [
            new("https://10.0.0.1:8080", 1),
            new("https://10.1.0.4:8080", 7),
            new("https://orders-3.internal:9000", 1000),
            new("https://[fd00::2]:8080", 1),
        ];
        Assert.Equal(expected, instances);
    }

    private ConsulDiscoverySource Source(ConsulSpecification specification, int waitSeconds = 30, string? token = Token) =>
        new("orders-pool", specification, _http, new ConsulDiscoveryOptions { Address = _consul.BaseAddress.ToString(), Token = token, WaitSeconds = waitSeconds },
            TimeProvider.System, new FakeLogger(_logs));

    /// <summary>Until the agent holds a query with an index (so the next change is answered by it, not by a new query).</summary>
    private Task WaitForBlockingQueryAsync()
    {
        var index = _consul.Index;
        return Eventually.TrueAsync(() => _consul.Requests.Any(r => r.Query.Contains($"&index={index}&", StringComparison.Ordinal)), $"a blocking query on index {index}");
    }
}
