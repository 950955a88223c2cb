using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace FuncGateway.Authentication.Jwt;

/// <summary>The SHA-256 of a token: what the cache is keyed by, so the token itself is never kept.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct TokenHash(ulong A, ulong B, ulong C, ulong D)
{
    private const int StackLimit = 2048;

    public static TokenHash Of(string token)
    {
        var max = Encoding.UTF8.GetMaxByteCount(token.Length);
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(token, buffer);
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..length], digest);
            var words = MemoryMarshal.Cast<byte, ulong>(digest);
            return new TokenHash(words[0], words[1], words[2], words[3]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>The digest as 64 hexadecimal digits.</summary>
    public string ToHex() => string.Create(CultureInfo.InvariantCulture, $"{A:x16}{B:x16}{C:x16}{D:x16}");
}

/// <summary>
/// Tokens one JWT policy has already validated, so a client that sends the same token thousands of times costs one
/// signature check, not thousands. Keyed by the token's SHA-256 (never the token), at most <c>TokenCacheSize</c>
/// entries, and an entry is only ever used:
/// <list type="bullet">
/// <item>before the token's <c>exp</c> (without the clock skew: after <c>exp</c> the full validation decides, as
/// without the cache), before <c>TokenCacheSeconds</c> from its validation, and not before its <c>nbf</c>/<c>iat</c>
/// less the skew (a clock that went back);</item>
/// <item>with the very key set it was validated against: when the policy's keys change (a refresh fetched the JWKS,
/// a key was added or removed) the whole cache is dropped, so a removed key stops being trusted within the bound
/// <c>KeyRefreshSeconds</c> documents, cached or not.</item>
/// </list>
/// Only successes are cached; a refusal is always decided again. Each policy has its own cache, so a token accepted
/// by one policy (its issuer and audiences) is never a hit for another.
/// </summary>
internal sealed class ValidatedTokenCache
{
    private readonly int _capacity;
    private readonly TimeSpan _maxAge;
    private Generation _current = new(null);

    public ValidatedTokenCache(int capacity, TimeSpan maxAge)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxAge, TimeSpan.Zero);
        _capacity = capacity;
        _maxAge = maxAge;
    }

    /// <summary>Entries held now (tests).</summary>
    internal int Count => Volatile.Read(ref _current).Count;

    /// <summary>The entry for <paramref name="hash"/> if one is usable at <paramref name="now"/> (its key set still to be checked).</summary>
    public bool TryGet(TokenHash hash, DateTimeOffset now, out ValidatedToken entry)
    {
        if (Volatile.Read(ref _current).Entries.TryGetValue(hash, out entry!) && now >= entry.ValidFrom && now < entry.Until)
        {
            return true;
        }

        entry = null!;
        return false;
    }

    /// <summary>
    /// Remembers a token validated at <paramref name="now"/> against <paramref name="keys"/>; a new key set starts a
    /// new, empty generation. Nothing is kept for a token without a future <c>exp</c>.
    /// </summary>
    public void Add(TokenHash hash, ValidatedTokenFacts facts, SigningKeySet keys, AuthAttempt attempt, DateTimeOffset now)
    {
        var until = now + _maxAge;
        if (facts.Expires < until)
        {
            until = facts.Expires;
        }

        if (until <= now)
        {
            return;
        }

        var generation = Volatile.Read(ref _current);
        if (!ReferenceEquals(generation.Keys, keys))
        {
            // The key set changed since these entries were made: none of them may be trusted any more.
            var fresh = new Generation(keys);
            generation = Interlocked.CompareExchange(ref _current, fresh, generation) == generation ? fresh : Volatile.Read(ref _current);
            if (!ReferenceEquals(generation.Keys, keys))
            {
                return;
            }
        }

        if (generation.Count >= _capacity)
        {
            generation.Sweep(now, _capacity);
        }

        generation.TryAdd(hash, new ValidatedToken(keys, facts.Kid, facts.Family, facts.ValidFrom, until, attempt));
    }

    /// <summary>Drops every entry made with a key set other than <paramref name="keys"/> (the policy's current one).</summary>
    public void Invalidate(SigningKeySet keys)
    {
        var generation = Volatile.Read(ref _current);
        if (!ReferenceEquals(generation.Keys, keys))
        {
            Interlocked.CompareExchange(ref _current, new Generation(keys), generation);
        }
    }

    /// <summary>The entries made with one key set; replaced as a whole when the keys change.</summary>
    private sealed class Generation(SigningKeySet? keys)
    {
        private int _count;

        public SigningKeySet? Keys { get; } = keys;

        public ConcurrentDictionary<TokenHash, ValidatedToken> Entries { get; } = new();

        public int Count => Volatile.Read(ref _count);

        public void TryAdd(TokenHash hash, ValidatedToken entry)
        {
            if (Entries.TryAdd(hash, entry))
            {
                Interlocked.Increment(ref _count);
            }
        }

        /// <summary>Removes expired entries; when the cache is still full, empties it.</summary>
        public void Sweep(DateTimeOffset now, int capacity)
        {
            foreach (var (hash, entry) in Entries)
            {
                if (now >= entry.Until && Entries.TryRemove(new KeyValuePair<TokenHash, ValidatedToken>(hash, entry)))
                {
                    Interlocked.Decrement(ref _count);
                }
            }

            if (Count >= capacity)
            {
                // Still full of live entries: start over rather than grow (each costs one more validation at most).
                Entries.Clear();
                Interlocked.Exchange(ref _count, 0);
            }
        }
    }
}

/// <summary>What the cache needs to know of a token it keeps.</summary>
/// <param name="Kid">The header's <c>kid</c> (null when absent).</param>
/// <param name="Family">The family of its algorithm.</param>
/// <param name="ValidFrom">The earliest instant the token was valid: <c>nbf</c> and <c>iat</c> less the clock skew.</param>
/// <param name="Expires">Its <c>exp</c>.</param>
internal readonly record struct ValidatedTokenFacts(string? Kid, KeyFamily Family, DateTimeOffset ValidFrom, DateTimeOffset Expires);

/// <summary>One cached validation: the key set it was made with and the caller it produced.</summary>
internal sealed record ValidatedToken(SigningKeySet Keys, string? Kid, KeyFamily Family, DateTimeOffset ValidFrom, DateTimeOffset Until, AuthAttempt Attempt);
