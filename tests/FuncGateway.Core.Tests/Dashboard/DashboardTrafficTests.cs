using System.Diagnostics;
using System.Diagnostics.Metrics;
using FuncGateway.Dashboard;
using FuncGateway.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.Dashboard;

/// <summary>
/// The dashboard's rolling windows, fed through the gateway's real request-duration histogram, on a
/// <see cref="FakeTimeProvider"/>: per-route counts, errors and percentiles, the five-minute window, the bound on
/// routes, and nothing recorded when the dashboard is off or for another gateway's meter.
/// </summary>
public sealed class DashboardTrafficTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));
    private readonly GatewayTelemetry _telemetry;

    public DashboardTrafficTests() => _telemetry = new GatewayTelemetry(_services.GetRequiredService<IMeterFactory>());

    public void Dispose()
    {
        _telemetry.Dispose();
        _services.Dispose();
    }

    [Fact]
    public void Requests_are_counted_per_route_with_their_errors_and_latency()
    {
        using var traffic = Start();
        for (var ms = 1; ms <= 100; ms++)
        {
            Request("orders", ms / 1000.0, ms % 10 == 0 ? "5xx" : ms % 25 == 0 ? "4xx" : "2xx");
        }

        Request("users", 0.002, "2xx");
        Request(route: null, 0.001, "4xx");

        var orders = Sum(traffic, "orders");
        Assert.Equal(100, Total(orders));
        Assert.Equal(10, orders[DashboardTraffic.ServerErrorSlot]);
        Assert.Equal(2, orders[DashboardTraffic.ClientErrorSlot]);
        var bins = orders.AsSpan(0, LatencyBins.Count);
        Assert.InRange(LatencyBins.Quantile(bins, 100, 0.50)!.Value, 50 * 0.875, 50 * 1.125);
        Assert.InRange(LatencyBins.Quantile(bins, 100, 0.95)!.Value, 95 * 0.875, 95 * 1.125);
        Assert.InRange(LatencyBins.Quantile(bins, 100, 0.99)!.Value, 99 * 0.875, 99 * 1.125);
        Assert.Equal(1, Total(Sum(traffic, "users")));
    }

    [Fact]
    public void A_request_leaves_the_window_five_minutes_later()
    {
        using var traffic = Start();
        Request("orders", 0.01, "2xx");
        _time.Advance(TimeSpan.FromSeconds(TrafficWindow.BucketSeconds));
        Request("orders", 0.01, "5xx");
        Request("orders", 0.01, "5xx");

        var window = traffic.Route("orders")!;
        Assert.Equal(1, Total(window.Counts(traffic.CurrentPeriod - 1)!));
        Assert.Equal(2, Total(window.Counts(traffic.CurrentPeriod)!));
        Assert.Equal(3, Total(Sum(traffic, "orders")));

        // The slot of the first bucket comes round again: its old counts are gone, not added to.
        _time.Advance(TimeSpan.FromSeconds(TrafficWindow.BucketSeconds * (TrafficWindow.BucketCount - 1)));
        Request("orders", 0.01, "2xx");
        Assert.Equal(1, Total(window.Counts(traffic.CurrentPeriod)!));
        Assert.Equal(3, Total(Sum(traffic, "orders")));

        _time.Advance(TimeSpan.FromSeconds(TrafficWindow.BucketSeconds * TrafficWindow.BucketCount));
        Assert.Equal(0, Total(Sum(traffic, "orders")));
    }

    [Fact]
    public void Rate_limit_decisions_are_counted_per_policy()
    {
        using var traffic = Start();
        Decision("per_ip", "allowed");
        Decision("per_ip", "allowed");
        Decision("per_ip", "rejected");
        Decision("PER_IP", "unavailable");

        var decisions = new long[DashboardTraffic.Decisions.Length];
        traffic.Policy("per_ip")!.Sum(traffic.CurrentPeriod - TrafficWindow.BucketCount, traffic.CurrentPeriod, decisions);
        Assert.Equal([2L, 1L, 1L], decisions);
    }

    [Fact]
    public void At_most_a_thousand_routes_are_tracked_and_idle_removed_routes_are_dropped()
    {
        using var traffic = Start();
        for (var i = 0; i <= DashboardTraffic.MaxKeys; i++)
        {
            Request("route-" + i, 0.001, "2xx");
        }

        Assert.NotNull(traffic.Route("route-999"));
        Assert.Null(traffic.Route("route-1000"));

        // Still in the registry: kept however idle; removed and idle for the whole window: dropped.
        _time.Advance(TimeSpan.FromSeconds(TrafficWindow.BucketSeconds * (TrafficWindow.BucketCount + 1)));
        traffic.Prune(new HashSet<string>(StringComparer.Ordinal) { "route-1" });
        Assert.NotNull(traffic.Route("route-1"));
        Assert.Null(traffic.Route("route-2"));
        Request("route-1000", 0.001, "2xx");
        Assert.NotNull(traffic.Route("route-1000"));
    }

    [Fact]
    public async Task Nothing_is_recorded_when_the_dashboard_is_off_or_from_another_gateways_meter()
    {
        using (var off = new DashboardTraffic(_telemetry, _time, enabled: false))
        {
            await off.StartAsync(CancellationToken.None);
            Request("orders", 0.01, "2xx");
            Assert.Null(off.Route("orders"));
        }

        // Another host in the same process (its own container, so its own meter factory and meter).
        using var otherServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var other = new GatewayTelemetry(otherServices.GetRequiredService<IMeterFactory>());
        using var traffic = Start();
        other.RequestDuration.Record(0.01, new TagList { { GatewayTelemetry.RouteIdTag, "orders" }, { GatewayTelemetry.StatusClassTag, "2xx" } });
        Assert.Null(traffic.Route("orders"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(999)]
    [InlineData(1_000)]
    [InlineData(123_456)]
    [InlineData(60_000_000)]
    public void Each_duration_falls_in_a_bin_at_most_a_quarter_wide(long microseconds)
    {
        var bin = LatencyBins.Of(microseconds);
        Assert.InRange(microseconds, LatencyBins.LowerBound(bin), LatencyBins.UpperBound(bin) - 1);
        Assert.True(bin < 4 || LatencyBins.UpperBound(bin) - LatencyBins.LowerBound(bin) <= LatencyBins.LowerBound(bin) / 4);
    }

    [Fact]
    public void The_bins_are_contiguous_and_the_last_takes_everything_longer()
    {
        for (var bin = 0; bin < LatencyBins.Count - 1; bin++)
        {
            Assert.Equal(LatencyBins.UpperBound(bin), LatencyBins.LowerBound(bin + 1));
        }

        Assert.Equal(LatencyBins.Count - 1, LatencyBins.Of(long.MaxValue / 2));
        Assert.Null(LatencyBins.Quantile(new long[LatencyBins.Count], 0, 0.5));
    }

    private DashboardTraffic Start()
    {
        var traffic = new DashboardTraffic(_telemetry, _time, enabled: true);
        traffic.Start();
        return traffic;
    }

    private void Request(string? route, double seconds, string statusClass)
    {
        var tags = new TagList { { GatewayTelemetry.MethodTag, "GET" }, { GatewayTelemetry.StatusClassTag, statusClass } };
        if (route is not null)
        {
            tags.Add(GatewayTelemetry.RouteIdTag, route);
        }

        _telemetry.RequestDuration.Record(seconds, tags);
    }

    private void Decision(string policy, string decision) =>
        _telemetry.RateLimitDecisions.Add(1, new TagList { { GatewayTelemetry.PolicyTag, policy }, { GatewayTelemetry.DecisionTag, decision } });

    private static long[] Sum(DashboardTraffic traffic, string route)
    {
        var sums = new long[DashboardTraffic.RouteWidth];
        traffic.Route(route)?.Sum(traffic.CurrentPeriod - TrafficWindow.BucketCount + 1, traffic.CurrentPeriod, sums);
        return sums;
    }

    private static long Total(long[] counts) => counts.AsSpan(0, LatencyBins.Count).ToArray().Sum();

    private static long Total(int[] counts) => counts.AsSpan(0, LatencyBins.Count).ToArray().Sum(static c => (long)c);
}
