using System.Collections.Concurrent;

namespace FuncGateway.Caching;

/// <summary>One upstream request that concurrent misses for the same key wait for.</summary>
internal sealed class CacheFlight(string key)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Key { get; } = key;

    /// <summary>Completes when the leader's response is complete (stored or not).</summary>
    public Task Done => _done.Task;

    public void Complete() => _done.TrySetResult();
}

/// <summary>The misses in flight on this instance, by key: the first becomes the leader, the others wait (request coalescing).</summary>
internal sealed class CacheFlights
{
    private readonly ConcurrentDictionary<string, CacheFlight> _flights = new(StringComparer.Ordinal);

    /// <summary>Joins the flight for <paramref name="key"/>; <paramref name="leader"/> is true when the caller started it.</summary>
    public CacheFlight Join(string key, out bool leader)
    {
        var flight = new CacheFlight(key);
        var existing = _flights.GetOrAdd(key, flight);
        leader = ReferenceEquals(existing, flight);
        return existing;
    }

    public bool IsActive(string key) => _flights.ContainsKey(key);

    /// <summary>Ends the flight: later misses start their own, and the waiting ones look again.</summary>
    public void Complete(CacheFlight flight)
    {
        _flights.TryRemove(new KeyValuePair<string, CacheFlight>(flight.Key, flight));
        flight.Complete();
    }
}
