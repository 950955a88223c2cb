using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FuncGateway.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace FuncGateway.Dashboard;

/// <summary>
/// The dashboard's live numbers, fed from the gateway's own metrics: a <see cref="MeterListener"/> on this gateway's
/// <c>funcgateway.request.duration</c> (one measurement per request, tagged with route, method and status class, taken
/// by the pipeline's completion step) and <c>funcgateway.ratelimit.decisions</c> keeps a <see cref="TrafficWindow"/>
/// per route and per rate-limit policy. Nothing is recorded unless the admin key is configured (without it the
/// dashboard does not exist). Memory is bounded: at most <see cref="MaxKeys"/> windows of at most
/// <see cref="TrafficWindow.BucketCount"/> buckets; windows of routes no longer in the registry are dropped once idle.
/// </summary>
internal sealed class DashboardTraffic : IHostedService, IDisposable
{
    /// <summary>Routes (and, apart, policies) tracked at most; requests of further ones are not shown.</summary>
    public const int MaxKeys = 1000;

    /// <summary>Counter slots of a route's bucket: the latency bins, then 4xx and 5xx answers.</summary>
    public const int ClientErrorSlot = LatencyBins.Count;

    public const int ServerErrorSlot = LatencyBins.Count + 1;

    public const int RouteWidth = LatencyBins.Count + 2;

    /// <summary>Decisions of a policy's bucket.</summary>
    public static readonly string[] Decisions = ["allowed", "rejected", "unavailable"];

    private readonly ConcurrentDictionary<string, TrafficWindow> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TrafficWindow> _policies = new(StringComparer.OrdinalIgnoreCase);
    private readonly GatewayTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly bool _enabled;
    private readonly long _ticksPerPeriod;
    private MeterListener? _listener;

    public DashboardTraffic(GatewayTelemetry telemetry, TimeProvider time, bool enabled)
    {
        _telemetry = telemetry;
        _time = time;
        _enabled = enabled;
        _ticksPerPeriod = time.TimestampFrequency * TrafficWindow.BucketSeconds;
    }

    /// <summary>The current bucket period.</summary>
    public long CurrentPeriod => _time.GetTimestamp() / _ticksPerPeriod;

    /// <summary>How far into the current period we are, in seconds.</summary>
    public double SecondsIntoPeriod => (double)(_time.GetTimestamp() % _ticksPerPeriod) / _time.TimestampFrequency;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_enabled)
        {
            Start();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Starts listening to this gateway's instruments (and only this gateway's: other hosts in the process have meters of their own).</summary>
    internal void Start()
    {
        if (_listener is not null)
        {
            return;
        }

        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument, _telemetry.RequestDuration) || ReferenceEquals(instrument, _telemetry.RateLimitDecisions))
                {
                    listener.EnableMeasurementEvents(instrument, this);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>(static (_, seconds, tags, state) => ((DashboardTraffic)state!).OnRequest(seconds, tags));
        listener.SetMeasurementEventCallback<long>(static (_, _, tags, state) => ((DashboardTraffic)state!).OnDecision(tags));
        listener.Start();
        _listener = listener;
    }

    /// <summary>A route's window; null when it saw nothing (or is past <see cref="MaxKeys"/>).</summary>
    public TrafficWindow? Route(string routeId) => _routes.GetValueOrDefault(routeId);

    /// <summary>A policy's window; null when it decided nothing.</summary>
    public TrafficWindow? Policy(string name) => _policies.GetValueOrDefault(name);

    /// <summary>Drops the windows of routes not in <paramref name="current"/> that saw nothing for the whole window.</summary>
    public void Prune(IReadOnlySet<string> current)
    {
        var oldest = CurrentPeriod - TrafficWindow.BucketCount;
        foreach (var (id, window) in _routes)
        {
            if (!current.Contains(id) && window.LastPeriod < oldest)
            {
                _routes.TryRemove(id, out _);
            }
        }
    }

    private void OnRequest(double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? route = null;
        string? statusClass = null;
        foreach (var tag in tags)
        {
            if (tag.Key == GatewayTelemetry.RouteIdTag)
            {
                route = tag.Value as string;
            }
            else if (tag.Key == GatewayTelemetry.StatusClassTag)
            {
                statusClass = tag.Value as string;
            }
        }

        // Requests no route matched (404s, the admin surface, the dashboard's own polling) are not a route's traffic.
        if (route is null || Window(_routes, route, RouteWidth) is not { } window)
        {
            return;
        }

        var period = CurrentPeriod;
        window.Increment(period, LatencyBins.Of((long)(seconds * 1_000_000)));
        if (statusClass == "5xx")
        {
            window.Increment(period, ServerErrorSlot);
        }
        else if (statusClass == "4xx")
        {
            window.Increment(period, ClientErrorSlot);
        }
    }

    private void OnDecision(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? policy = null;
        var slot = -1;
        foreach (var tag in tags)
        {
            if (tag.Key == GatewayTelemetry.PolicyTag)
            {
                policy = tag.Value as string;
            }
            else if (tag.Key == GatewayTelemetry.DecisionTag)
            {
                slot = Array.IndexOf(Decisions, tag.Value as string);
            }
        }

        if (policy is not null && slot >= 0 && Window(_policies, policy, Decisions.Length) is { } window)
        {
            window.Increment(CurrentPeriod, slot);
        }
    }

    private static TrafficWindow? Window(ConcurrentDictionary<string, TrafficWindow> windows, string key, int width) =>
        windows.TryGetValue(key, out var window) ? window
        : windows.Count >= MaxKeys ? null
        : windows.GetOrAdd(key, static (_, w) => new TrafficWindow(w), width);

    public void Dispose() => _listener?.Dispose();
}
