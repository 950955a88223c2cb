using FuncGateway.Health;
using FuncGateway.LoadBalancing;
using FuncGateway.Resilience;
using FuncGateway.Model;
using FuncGateway.Configuration;

namespace FuncGateway.Admin;

/// <summary>
/// The admin view of <c>/_gateway/health</c>: for every pool (named, and the one-instance pools of routes with a URL
/// upstream), each instance's active health, circuit state, requests in flight and whether routing would pick it now.
/// </summary>
internal sealed class HealthReport(GatewayRegistry registry, HealthMonitor monitor, HealthProber prober, TimeProvider time)
{
    public object Build()
    {
        var snapshot = registry.Current;
        var now = time.GetUtcNow();
        var pools = new List<UpstreamPool>();
        if (snapshot is not null)
        {
            pools.AddRange(snapshot.Upstreams.Values.OrderBy(p => p.Name, StringComparer.Ordinal));
            pools.AddRange(snapshot.Routes.Select(r => r.Pool).Where(p => p.IsInline).Distinct().OrderBy(p => p.Name, StringComparer.Ordinal));
        }

        var read = monitor.Status;
        var probe = prober.Status;
        return new
        {
            snapshotVersion = snapshot?.Version,
            now,
            healthTable = new
            {
                read.LastAttemptAt,
                read.LastSuccessAt,
                read.LastError,
                read.Rows,
                refreshIntervalSeconds = monitor.Interval.TotalSeconds,
            },
            prober = new
            {
                id = prober.Id,
                leaseHolder = probe.LeaseHolder,
                lastRoundAt = probe.LastRoundAt,
                lastError = probe.LastError,
                lastProbed = probe.LastProbed,
            },
            pools = pools.Select(pool => Pool(pool, now)),
        };
    }

    private static object Pool(UpstreamPool pool, DateTimeOffset now)
    {
        var ticks = now.UtcTicks;
        var hc = pool.HealthCheck;
        return new
        {
            name = pool.Name,
            inline = pool.IsInline,
            loadBalancing = pool.Policy.Name,
            hashKey = pool.Policy.Name == LoadBalancingPolicies.ConsistentHash ? pool.HashKey.ToString() : null,
            healthCheck = hc is null ? null : new
            {
                path = hc.Path,
                expectedStatus = hc.ExpectedStatus,
                timeoutSeconds = hc.Timeout.TotalSeconds,
                intervalSeconds = hc.Interval.TotalSeconds,
                unhealthyThreshold = hc.UnhealthyThreshold,
                healthyThreshold = hc.HealthyThreshold,
            },
            available = pool.Instances.Count(i => i.IsAvailable(ticks)),
            total = pool.Instances.Length,
            instances = pool.Instances.Select(instance => Instance(instance, ticks)),
        };
    }

    private static object Instance(UpstreamInstance instance, long ticks)
    {
        var health = instance.HealthCheck is null ? null : instance.Health;
        var breaker = instance.Breaker;
        return new
        {
            url = instance.Url,
            weight = instance.Weight,
            available = instance.IsAvailable(ticks),
            outstandingRequests = instance.OutstandingRequests,
            health = instance.HealthCheck is null ? null : new
            {
                state = (health?.State ?? HealthState.Unknown).ToString(),
                stale = health is not null && HealthGate.IsStale(health, ticks, instance.HealthCheck!),
                consecutiveSuccesses = health?.ConsecutiveSuccesses ?? 0,
                consecutiveFailures = health?.ConsecutiveFailures ?? 0,
                latencyMs = health?.LatencyMs,
                lastStatus = health?.LastStatus,
                lastError = health?.LastError,
                probedAt = health?.ProbedAt,
                stateChangedAt = health?.StateChangedAt,
                probedBy = health?.ProbedBy,
            },
            circuit = new
            {
                enabled = breaker.Settings.Enabled,
                state = breaker.State.ToString(),
                openUntil = breaker.OpenUntil,
                failureRatio = breaker.Settings.FailureRatio,
                minimumThroughput = breaker.Settings.MinimumThroughput,
                samplingSeconds = breaker.Settings.SamplingDuration.TotalSeconds,
                breakSeconds = breaker.Settings.BreakDuration.TotalSeconds,
            },
        };
    }
}
