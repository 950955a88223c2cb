using System.Threading.RateLimiting;
using FuncGateway.Model;

namespace FuncGateway.Concurrency;

/// <summary>
/// A route's concurrency limit as a snapshot holds it: a <see cref="ConcurrencyLimiter"/> with no queue. The limiter
/// itself is shared by every snapshot in which the route keeps the same limit (<see cref="RouteConcurrencyLimiters"/>),
/// so a registry refresh never forgets the requests in flight.
/// </summary>
internal sealed class RouteConcurrency(int limit, ConcurrencyLimiter limiter)
{
    /// <summary>The route's <c>MaxConcurrency</c>.</summary>
    public int Limit { get; } = limit;

    /// <summary>Counts the route's requests in flight on this instance.</summary>
    public ConcurrencyLimiter Limiter { get; } = limiter;
}

/// <summary>
/// The routes' limiters across snapshot builds, by route id and limit. A build that compiles a route with the limit it
/// already had gets the same limiter back, with its requests in flight; a changed limit starts a new one (requests
/// admitted under the old limit are not counted against it). Entries are weak: a limiter lives as long as a snapshot or
/// a request in flight holds it, so a route that is gone, and its limiter, cost nothing once they are idle, and a route
/// that comes back while its old requests are still running finds them counted. Keyed by the limit too, so that a
/// build that compiles another limit for the route and then rejects the row (a conflict, an error found later) does
/// not take the served limit's place: the next build finds the limiter the served route still counts with.
/// </summary>
internal sealed class RouteConcurrencyLimiters
{
    private const int MinSweep = 64;

    private readonly Dictionary<(string RouteId, int Limit), WeakReference<ConcurrencyLimiter>> _byRoute = [];
    private readonly Lock _lock = new();
    private int _sweepAt = MinSweep;

    /// <summary>The limiter for <paramref name="routeId"/> with <paramref name="limit"/> permits: the existing one when the limit is unchanged.</summary>
    public ConcurrencyLimiter Get(string routeId, int limit)
    {
        ArgumentNullException.ThrowIfNull(routeId);
        lock (_lock)
        {
            if (_byRoute.TryGetValue((routeId, limit), out var entry) && entry.TryGetTarget(out var existing))
            {
                return existing;
            }

            var created = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = limit,
                QueueLimit = 0,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
            _byRoute[(routeId, limit)] = new WeakReference<ConcurrencyLimiter>(created);
            if (_byRoute.Count >= _sweepAt)
            {
                Sweep();
            }

            return created;
        }
    }

    /// <summary>How many routes have a live limiter (for tests).</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _byRoute.Values.Count(static e => e.TryGetTarget(out _));
            }
        }
    }

    /// <summary>Forgets collected limiters; runs when the table has doubled since the last sweep, so its cost is amortized.</summary>
    private void Sweep()
    {
        foreach (var (key, entry) in _byRoute)
        {
            if (!entry.TryGetTarget(out _))
            {
                _byRoute.Remove(key);
            }
        }

        _sweepAt = Math.Max(MinSweep, _byRoute.Count * 2);
    }

}

/// <summary>Compiles a route's <c>MaxConcurrency</c> into a <see cref="RouteConcurrency"/>, reusing the route's limiter while the limit is unchanged.</summary>
internal sealed class RouteConcurrencyCompiler(RouteConcurrencyLimiters limiters) : IRouteFeatureCompiler
{
    public object? Compile(RouteDefinition route, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(errors);

        // A row that is already rejected (e.g. a second row with this id in another partition) must not replace the
        // limiter of the route that is served under the id: the next refresh would start its count from zero.
        if (errors.Count > 0)
        {
            return null;
        }

        return route.Get(ConcurrencyProperties.MaxConcurrency) is { } limit
            ? new RouteConcurrency(limit, limiters.Get(route.Id, limit))
            : null;
    }
}
