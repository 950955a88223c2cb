using System.Collections.Immutable;

namespace FuncGateway.Model;

/// <summary>
/// What an instance carries from one snapshot to the next: requests in flight, and whatever capabilities keep per
/// instance (a circuit breaker, the last health result), each in its own typed slot. Keyed by pool and URL in
/// <see cref="InstanceStateRegistry"/>.
/// </summary>
public sealed class InstanceState(string pool, string url)
{
    /// <summary>Requests in flight from this gateway instance; updated with Interlocked.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1051", Justification = "A field, so Interlocked can update it on the hot path.")]
    public int Outstanding;

    private ImmutableDictionary<Type, object> _slots = ImmutableDictionary<Type, object>.Empty;

    /// <summary>The pool the instance belongs to.</summary>
    public string Pool { get; } = pool;

    /// <summary>The instance's URL.</summary>
    public string Url { get; } = url;

    /// <summary>The capability state of type <typeparamref name="T"/>, or null.</summary>
    public T? Get<T>()
        where T : class => Volatile.Read(ref _slots).TryGetValue(typeof(T), out var value) ? (T)value : null;

    /// <summary>Sets (or with null, clears) the capability state of type <typeparamref name="T"/>.</summary>
    public void Set<T>(T? value)
        where T : class
    {
        ImmutableInterlocked.Update(ref _slots, static (slots, v) => v is null ? slots.Remove(typeof(T)) : slots.SetItem(typeof(T), v), value);
    }
}
