using System.Text.Json;
using FuncGateway.Concurrency;
using FuncGateway.Configuration;
using FuncGateway.Core.Tests.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Concurrency;

/// <summary>
/// The route property <c>MaxConcurrency</c>: its format, the 503 above the limit, the permit given back when the
/// pipeline finishes, and the count of requests in flight surviving snapshot rebuilds while the limit is unchanged.
/// </summary>
public sealed class ConcurrencyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private readonly RouteConcurrencyLimiters _limiters = new();
    private readonly ConcurrencyStep _step = new(NullLogger<ConcurrencyStep>.Instance);
    private readonly ConcurrencyRelease _release = new();
    private long _version;

    private GatewaySnapshot Build(params RegistryRow[] routes) =>
        new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100),
                [new RouteConcurrencyCompiler(_limiters)], poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()))
            .Build(new RegistryContent([], routes), ++_version, Now);

    private static CompiledRoute RouteOf(GatewaySnapshot snapshot, string id) => snapshot.Routes.Single(r => r.Definition.Id == id);

    /// <summary>Runs the step for one request on <paramref name="route"/>; the context is what the pipeline would complete.</summary>
    private async Task<(bool Proceeds, HttpContext Context)> StartAsync(CompiledRoute route)
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        var feature = new GatewayRequestFeature(route, new RouteValueDictionary());
        context.Features.Set(feature);
        return (await _step.InvokeAsync(context, feature), context);
    }

    private ValueTask CompleteAsync(HttpContext context) =>
        _release.OnCompletedAsync(new GatewayCompletionContext(context, context.Features.Get<GatewayRequestFeature>(), 0));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(100000, 100000)]
    [InlineData("25", 25)]
    public void MaxConcurrency_is_a_whole_number_from_1_to_100000(object stored, int expected)
    {
        var errors = new List<string>();

        var route = RegistryFormat.ParseRoute(Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", stored)), errors);

        Assert.Empty(errors);
        Assert.Equal(expected, route!.Get(ConcurrencyProperties.MaxConcurrency));
        Assert.Equal(expected, RegistryFormat.ToRow(route).Properties["MaxConcurrency"]);
    }

    [Theory]
    [InlineData(0, "MaxConcurrency 0 is outside 1–100000.")]
    [InlineData(-3, "MaxConcurrency -3 is outside 1–100000.")]
    [InlineData(100001, "MaxConcurrency 100001 is outside 1–100000.")]
    [InlineData("many", "MaxConcurrency must be a 32-bit integer, not a string 'many'.")]
    [InlineData(2.5, "MaxConcurrency must be a 32-bit integer, not a Double '2.5'.")]
    public void A_bad_limit_rejects_the_row_with_the_reason(object stored, string reason)
    {
        var snapshot = Build(Route("bad", "/bad", "http://10.0.0.4", ("MaxConcurrency", stored)), Route("good", "/good", "http://10.0.0.4"));

        Assert.Equal(["good"], snapshot.Routes.Select(r => r.Definition.Id));
        Assert.Equal(reason, Assert.Single(Assert.Single(snapshot.Rejected).Errors));
    }

    [Fact]
    public void A_route_without_a_limit_compiles_to_nothing()
    {
        Assert.Null(RouteOf(Build(Route("r", "/r", "http://10.0.0.4")), "r").GetFeature<RouteConcurrency>());
        Assert.False(RegistryFormat.ToRow(RegistryFormat.ParseRoute(Route("r", "/r", "http://10.0.0.4"), [])!).Properties.ContainsKey("MaxConcurrency"));
    }

    [Fact]
    public async Task Above_the_limit_a_request_gets_503_with_retry_after_at_once_and_a_finished_request_frees_its_permit()
    {
        var route = RouteOf(Build(Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 2))), "r");
        var (firstProceeds, first) = await StartAsync(route);
        var (secondProceeds, second) = await StartAsync(route);

        var (thirdProceeds, third) = await StartAsync(route);

        Assert.True(firstProceeds && secondProceeds);
        Assert.False(thirdProceeds);
        Assert.Equal(503, third.Response.StatusCode);
        Assert.Equal("1", third.Response.Headers.RetryAfter.ToString());
        Assert.Equal("application/problem+json", third.Response.ContentType);
        var problem = JsonDocument.Parse(((MemoryStream)third.Response.Body).ToArray()).RootElement;
        Assert.Equal("concurrency_limited", problem.GetProperty("code").GetString());
        Assert.Contains("2 requests in flight", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        await CompleteAsync(third); // a refused request holds nothing
        Assert.False((await StartAsync(route)).Proceeds);

        await CompleteAsync(first);
        await CompleteAsync(first); // completing twice gives back one permit, not two
        var (fourthProceeds, _) = await StartAsync(route);
        var (fifthProceeds, _) = await StartAsync(route);

        Assert.True(fourthProceeds);
        Assert.False(fifthProceeds);
    }

    [Fact]
    public async Task A_snapshot_refresh_keeps_the_requests_in_flight_while_the_limit_is_unchanged()
    {
        var first = Build(Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 1)), Route("other", "/other", "http://10.0.0.4"));
        var (proceeds, inFlight) = await StartAsync(RouteOf(first, "r"));
        Assert.True(proceeds);

        // Refreshes: another row changes, and this route's own row changes in everything but its limit.
        var second = Build(Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 1)), Route("other", "/other2", "http://10.0.0.4"));
        var third = Build(Route("r", "/r/{**rest}", "http://10.0.0.5", ("MaxConcurrency", "1")));

        Assert.NotSame(RouteOf(first, "r"), RouteOf(third, "r"));
        Assert.Same(RouteOf(first, "r").GetFeature<RouteConcurrency>()!.Limiter, RouteOf(third, "r").GetFeature<RouteConcurrency>()!.Limiter);
        Assert.False((await StartAsync(RouteOf(second, "r"))).Proceeds);
        Assert.False((await StartAsync(RouteOf(third, "r"))).Proceeds);

        await CompleteAsync(inFlight); // finishes on the snapshot it started on; the newer ones see the permit back
        var (afterwards, _) = await StartAsync(RouteOf(third, "r"));

        Assert.True(afterwards);
    }

    [Fact]
    public async Task A_rejected_row_with_the_same_id_in_another_partition_does_not_reset_the_count()
    {
        RegistryRow[] Rows() =>
        [
            Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 1)),
            Row(RegistryTable.Routes, "other", "r", ("Path", "/r2"), ("Upstream", "http://10.0.0.4"), ("Auth", "anonymous"), ("MaxConcurrency", 5)),
        ];
        var (_, inFlight) = await StartAsync(RouteOf(Build(Rows()), "r"));

        var refreshed = Build(Rows());

        Assert.Single(refreshed.Rejected);
        Assert.False((await StartAsync(RouteOf(refreshed, "r"))).Proceeds);
        await CompleteAsync(inFlight);
    }

    [Fact]
    public async Task A_rejected_edit_that_changed_the_limit_does_not_reset_the_count_of_the_route_still_served()
    {
        var (_, inFlight) = await StartAsync(RouteOf(Build(Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 1))), "r"));

        // An edit raises the limit but the row is rejected (here: a conflict with 'a', found after compiling): the
        // gateway keeps serving the route with limit 1. When the edit is undone, its requests in flight still count.
        var rejected = Build(Route("a", "/r", "http://10.0.0.4"), Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 2)));
        Assert.Equal("r", Assert.Single(rejected.Rejected).RowKey);
        var restored = RouteOf(Build(Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 1))), "r");

        Assert.False((await StartAsync(restored)).Proceeds);
        await CompleteAsync(inFlight);
        Assert.True((await StartAsync(restored)).Proceeds);
    }

    [Fact]
    public async Task A_changed_limit_starts_a_new_count()
    {
        var (_, inFlight) = await StartAsync(RouteOf(Build(Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 1))), "r"));

        var raised = RouteOf(Build(Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 2))), "r");
        var (a, _) = await StartAsync(raised);
        var (b, _) = await StartAsync(raised);
        var (c, _) = await StartAsync(raised);

        Assert.Equal((true, true, false), (a, b, c));
        await CompleteAsync(inFlight); // goes back to the old limiter, and changes nothing for the new one
        Assert.False((await StartAsync(raised)).Proceeds);
    }

    [Fact]
    public async Task A_route_that_leaves_and_comes_back_while_its_requests_run_finds_them_counted()
    {
        var (_, inFlight) = await StartAsync(RouteOf(Build(Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 1))), "r"));
        Build(Route("other", "/other", "http://10.0.0.4"));
        GC.Collect();
        GC.WaitForPendingFinalizers();

        var back = RouteOf(Build(Route("r", "/r", "http://10.0.0.4", ("MaxConcurrency", 1))), "r");

        Assert.False((await StartAsync(back)).Proceeds);
        await CompleteAsync(inFlight);
        Assert.True((await StartAsync(back)).Proceeds);
    }

    [Fact]
    public void Limiters_of_routes_with_the_same_limit_are_their_own()
    {
        var snapshot = Build(Route("a", "/a", "http://10.0.0.4", ("MaxConcurrency", 1)), Route("b", "/b", "http://10.0.0.4", ("MaxConcurrency", 1)));

        Assert.NotSame(RouteOf(snapshot, "a").GetFeature<RouteConcurrency>()!.Limiter, RouteOf(snapshot, "b").GetFeature<RouteConcurrency>()!.Limiter);
        Assert.Equal(2, _limiters.Count);
    }
}
