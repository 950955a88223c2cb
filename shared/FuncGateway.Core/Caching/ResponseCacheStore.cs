using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace FuncGateway.Caching;

/// <summary>
/// The instance's response cache: entries by key, least recently used first out once the total passes
/// <see cref="CacheOptions.MaxTotalBytes"/>. One short lock around a dictionary and a list (no I/O, no allocation of
/// bodies inside it). It also remembers, per primary key, which request headers the upstream said it varies on, so a
/// lookup can build the full key before it finds the entry (RFC 9111 §4.1).
/// </summary>
internal sealed class ResponseCacheStore
{
    private const char Separator = '\u001f';
    private const int MaxVaryRecords = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<CacheEntry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<CacheEntry> _recency = new();
    private readonly Dictionary<string, string[]> _vary = new(StringComparer.Ordinal);
    private readonly long _maxTotal;
    private long _total;

    public ResponseCacheStore(IOptions<CacheOptions> options)
    {
        _maxTotal = options.Value.MaxTotalBytes;
        MaxEntryBytes = options.Value.MaxEntryBytes;
    }

    public long MaxEntryBytes { get; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public long TotalBytes => Interlocked.Read(ref _total);

    /// <summary>The full key of a request: its primary key plus the values of the headers the upstream varies on.</summary>
    public string FullKey(string primaryKey, IHeaderDictionary requestHeaders)
    {
        string[]? names;
        lock (_lock)
        {
            _vary.TryGetValue(primaryKey, out names);
        }

        return names is null ? primaryKey : FullKey(primaryKey, names, requestHeaders);
    }

    public static string FullKey(string primaryKey, string[] varyNames, IHeaderDictionary requestHeaders)
    {
        if (varyNames.Length == 0)
        {
            return primaryKey;
        }

        var builder = new System.Text.StringBuilder(primaryKey);
        foreach (var name in varyNames)
        {
            RouteCache.AppendField(builder.Append(Separator).Append(name).Append('='), requestHeaders[name].ToString());
        }

        return builder.ToString();
    }

    /// <summary>True when this instance knows which headers the upstream varies on for the primary key.</summary>
    public bool TryGetVary(string primaryKey, out string[] names)
    {
        lock (_lock)
        {
            if (_vary.TryGetValue(primaryKey, out var known))
            {
                names = known;
                return true;
            }
        }

        names = [];
        return false;
    }

    public CacheEntry? Get(string key)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value;
        }
    }

    /// <summary>Stores the entry (replacing one with its key) and records the headers its primary key varies on.</summary>
    public bool Set(string primaryKey, string[] varyNames, CacheEntry entry)
    {
        if (entry.Size > MaxEntryBytes || entry.Size > _maxTotal)
        {
            return false;
        }

        lock (_lock)
        {
            if (_vary.Count >= MaxVaryRecords)
            {
                _vary.Clear();
            }

            _vary[primaryKey] = varyNames;
            if (_entries.TryGetValue(entry.Key, out var old))
            {
                RemoveNode(old);
            }

            _entries[entry.Key] = _recency.AddFirst(entry);
            _total += entry.Size;
            while (_total > _maxTotal && _recency.Last is { } last)
            {
                RemoveNode(last);
            }
        }

        return true;
    }

    public void Remove(CacheEntry entry)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(entry.Key, out var node) && ReferenceEquals(node.Value, entry))
            {
                RemoveNode(node);
            }
        }
    }

    /// <summary>Drops every entry that matches; returns how many.</summary>
    public int RemoveWhere(Func<CacheEntry, bool> match)
    {
        lock (_lock)
        {
            var removed = 0;
            for (var node = _recency.First; node is not null;)
            {
                var next = node.Next;
                if (match(node.Value))
                {
                    RemoveNode(node);
                    removed++;
                }

                node = next;
            }

            return removed;
        }
    }

    private void RemoveNode(LinkedListNode<CacheEntry> node)
    {
        _entries.Remove(node.Value.Key);
        _recency.Remove(node);
        _total -= node.Value.Size;
    }
}
