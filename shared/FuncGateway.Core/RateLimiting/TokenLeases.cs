namespace FuncGateway.RateLimiting;

/// <summary>
/// Token-bucket slices with their expiry: a token taken from the shared bucket is spent within LeaseSeconds or
/// dropped, which bounds fast mode's overshoot to rate × LeaseSeconds. Oldest first; at most four generations
/// (a fifth is merged into the newest one kept, with the earlier expiry: shorter life, never longer).
/// </summary>
internal struct TokenLeases
{
    private const int Capacity = 4;
    private long[]? _counts;
    private long[]? _expires;
    private int _length;

    public void Add(long permits, long expiresMs)
    {
        _counts ??= new long[Capacity];
        _expires ??= new long[Capacity];
        if (_length == Capacity)
        {
            _counts[Capacity - 1] += permits;
            return;
        }

        _counts[_length] = permits;
        _expires[_length] = expiresMs;
        _length++;
    }

    /// <summary>Drops expired generations; returns the permits dropped.</summary>
    public long DropExpired(long nowMs)
    {
        long dropped = 0;
        var keep = 0;
        for (var i = 0; i < _length; i++)
        {
            if (_expires![i] <= nowMs)
            {
                dropped += _counts![i];
                continue;
            }

            _counts![keep] = _counts[i];
            _expires[keep] = _expires[i];
            keep++;
        }

        _length = keep;
        return dropped;
    }

    /// <summary>Gives permits back at the front, with the expiry of the slice they came from (the oldest kept, as they were spent first).</summary>
    public void Return(long permits, long expiresMs)
    {
        _counts ??= new long[Capacity];
        _expires ??= new long[Capacity];
        if (_length == Capacity)
        {
            // Merged into the oldest: the earlier expiry wins (shorter life, never longer).
            _counts[0] += permits;
            _expires[0] = Math.Min(_expires[0], expiresMs);
            return;
        }

        Array.Copy(_counts, 0, _counts, 1, _length);
        Array.Copy(_expires, 0, _expires, 1, _length);
        _counts[0] = permits;
        _expires[0] = expiresMs;
        _length++;
    }

    /// <summary>Spends permits, oldest slice first; returns the expiry of the first slice spent from.</summary>
    public long Spend(long permits)
    {
        var stamp = _length > 0 ? _expires![0] : 0;
        var i = 0;
        while (permits > 0 && i < _length)
        {
            var used = Math.Min(permits, _counts![i]);
            _counts[i] -= used;
            permits -= used;
            if (_counts[i] == 0)
            {
                i++;
            }
        }

        if (i > 0)
        {
            Array.Copy(_counts!, i, _counts!, 0, _length - i);
            Array.Copy(_expires!, i, _expires!, 0, _length - i);
            _length -= i;
        }

        return stamp;
    }
}
