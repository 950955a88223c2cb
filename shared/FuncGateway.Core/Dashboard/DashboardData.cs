using FuncGateway.Admin;
using FuncGateway.Configuration;
using FuncGateway.Model;
using FuncGateway.RateLimiting;

namespace FuncGateway.Dashboard;

/// <summary>
/// The JSON behind the dashboard (<c>GET /_gateway/dashboard/data</c>): the registry's status, every route with its
/// live numbers and a status colour, the rejected rows and why, every pool with each instance's health and circuit
/// (<see cref="HealthReport"/>), and every rate-limit policy with this instance's recent decisions. Numbers are this
/// gateway instance's own: each instance of a scaled-out app has its own window.
/// </summary>
internal sealed class DashboardData(GatewayRegistry registry, HealthReport health, DashboardTraffic traffic, RateLimiterRegistry rateLimits, TimeProvider time)
{
    /// <summary>Seconds of traffic behind a route's rate, error rate and percentiles.</summary>
    public const int RecentSeconds = 60;

    /// <summary>Seconds of traffic behind a route's status colour.</summary>
    public const int StatusSeconds = 30;

    /// <summary>A route is <c>down</c> when at least this share of its requests in the last <see cref="StatusSeconds"/> ended in 5xx.</summary>
    public const double DownErrorRate = 0.5;

    public object Build()
    {
        var snapshot = registry.Current;
        var status = registry.Status;
        var now = time.GetUtcNow();
        var period = traffic.CurrentPeriod;
        var into = traffic.SecondsIntoPeriod;
        if (snapshot is not null)
        {
            traffic.Prune(snapshot.Routes.Select(static r => r.Definition.Id).ToHashSet(StringComparer.Ordinal));
        }

        var routes = snapshot?.Routes.Select(route => Route(route, period, into, now.UtcTicks)).ToList() ?? [];
        return new
        {
            generatedAt = now,
            bucketSeconds = TrafficWindow.BucketSeconds,
            windowSeconds = TrafficWindow.BucketSeconds * TrafficWindow.BucketCount,
            recentSeconds = RecentSeconds,
            statusSeconds = StatusSeconds,
            registry = new
            {
                snapshotVersion = snapshot?.Version,
                loadedAt = snapshot?.LoadedAt,
                status.LastSuccessAt,
                status.LastError,
                rejected = snapshot?.Rejected.Length ?? 0,
            },
            totals = new
            {
                requests = routes.Sum(static r => r.Requests),
                recentRequests = routes.Sum(static r => r.RecentRequests),
                recentServerErrors = routes.Sum(static r => r.RecentServerErrors),
                down = routes.Count(static r => r.Status == "down"),
            },
            routes,
            rejected = snapshot?.Rejected.Select(static r => new { table = r.Table.ToString(), r.PartitionKey, r.RowKey, r.Errors }) ?? [],
            health = health.Build(),
            rateLimits = RateLimits(period),
        };
    }

    private RouteView Route(CompiledRoute route, long period, double into, long nowTicks)
    {
        var definition = route.Definition;
        var pool = route.Pool;
        var available = pool.Instances.Count(i => i.IsAvailable(nowTicks));
        var window = traffic.Route(definition.Id);

        Span<long> recent = stackalloc long[DashboardTraffic.RouteWidth];
        Span<long> latest = stackalloc long[DashboardTraffic.RouteWidth];
        var recentBuckets = RecentSeconds / TrafficWindow.BucketSeconds;
        window?.Sum(period - recentBuckets + 1, period, recent);
        window?.Sum(period - (StatusSeconds / TrafficWindow.BucketSeconds) + 1, period, latest);
        var recentTotal = Total(recent);
        var latestTotal = Total(latest);
        var latestErrors = latest[DashboardTraffic.ServerErrorSlot];

        var series = new long[TrafficWindow.BucketCount];
        var errorSeries = new long[TrafficWindow.BucketCount];
        long requests = 0;
        for (var i = 0; i < series.Length; i++)
        {
            if (window?.Counts(period - series.Length + 1 + i) is { } counts)
            {
                series[i] = Total(counts);
                errorSeries[i] = counts[DashboardTraffic.ServerErrorSlot];
                requests += series[i];
            }
        }

        var (state, reason) = (available, latestTotal, latestErrors) switch
        {
            (0, _, _) when route.Responder is not null => latestTotal == 0 ? ("idle", $"No requests in the last {StatusSeconds} s.")
                : latestErrors > 0 ? ("degraded", $"{latestErrors} of {latestTotal} requests in the last {StatusSeconds} s failed with 5xx.")
                : ("ok", $"{latestTotal} requests in the last {StatusSeconds} s, none failed with 5xx."),
            (0, _, _) => ("down", $"No instance of '{pool.Name}' can take a request (health check failing or circuit open)."),
            (_, > 0, _) when latestErrors >= DownErrorRate * latestTotal => ("down", $"{latestErrors} of {latestTotal} requests in the last {StatusSeconds} s failed with 5xx."),
            _ when available < pool.Instances.Length => ("degraded", $"{pool.Instances.Length - available} of {pool.Instances.Length} instances of '{pool.Name}' cannot take a request."),
            (_, _, > 0) => ("degraded", $"{latestErrors} of {latestTotal} requests in the last {StatusSeconds} s failed with 5xx."),
            (_, 0, _) => ("idle", $"No requests in the last {StatusSeconds} s."),
            _ => ("ok", $"{latestTotal} requests in the last {StatusSeconds} s, none failed with 5xx."),
        };

        var seconds = ((recentBuckets - 1) * TrafficWindow.BucketSeconds) + into;
        var bins = recent[..LatencyBins.Count];
        return new RouteView(
            definition.Id,
            definition.Path,
            definition.Methods,
            definition.Upstream ?? $"({route.Responder?.Property})",
            pool.Name,
            available,
            pool.Instances.Length,
            state,
            reason,
            requests,
            recentTotal,
            seconds > 0 ? Math.Round(recentTotal / seconds, 2) : 0,
            recent[DashboardTraffic.ClientErrorSlot],
            recent[DashboardTraffic.ServerErrorSlot],
            recentTotal > 0 ? Math.Round((double)recent[DashboardTraffic.ServerErrorSlot] / recentTotal, 4) : 0,
            LatencyBins.Quantile(bins, recentTotal, 0.50),
            LatencyBins.Quantile(bins, recentTotal, 0.95),
            LatencyBins.Quantile(bins, recentTotal, 0.99),
            series,
            errorSeries);
    }

    private List<object> RateLimits(long period)
    {
        var result = new List<object>();
        var recentBuckets = RecentSeconds / TrafficWindow.BucketSeconds;
        var limiters = rateLimits.Names.Select(name => rateLimits.TryGet(name, out var limiter) ? limiter : null)
            .Append(rateLimits.AuthenticationFailures);
        foreach (var limiter in limiters)
        {
            if (limiter is null)
            {
                continue;
            }

            var policy = limiter.Policy;
            var decisions = new long[DashboardTraffic.Decisions.Length];
            traffic.Policy(policy.Name)?.Sum(period - recentBuckets + 1, period, decisions);
            result.Add(new
            {
                name = policy.Name,
                algorithm = policy.Algorithm.ToString(),
                mode = policy.Mode.ToString(),
                limit = policy.Limits.Limit,
                windowSeconds = policy.Limits.WindowSeconds,
                partitions = limiter.PartitionCount,
                allowed = decisions[0],
                rejected = decisions[1],
                unavailable = decisions[2],
            });
        }

        return result;
    }

    private static long Total(ReadOnlySpan<long> counts) => Sum(counts[..LatencyBins.Count]);

    private static long Total(int[] counts)
    {
        long sum = 0;
        for (var i = 0; i < LatencyBins.Count; i++)
        {
            sum += counts[i];
        }

        return sum;
    }

    private static long Sum(ReadOnlySpan<long> values)
    {
        long sum = 0;
        foreach (var value in values)
        {
            sum += value;
        }

        return sum;
    }

    /// <summary>One route as the dashboard shows it.</summary>
    internal sealed record RouteView(
        string Id,
        string Path,
        IReadOnlyList<string> Methods,
        string Upstream,
        string Pool,
        int Available,
        int Instances,
        string Status,
        string StatusReason,
        long Requests,
        long RecentRequests,
        double RequestsPerSecond,
        long RecentClientErrors,
        long RecentServerErrors,
        double ErrorRate,
        double? P50Ms,
        double? P95Ms,
        double? P99Ms,
        long[] Series,
        long[] ErrorSeries);
}
