using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace FuncGateway.Model;

/// <summary>
/// A hash of a registry read that is equal for two reads exactly when no row was written, added or removed in between:
/// every row's table, keys and ETag (its properties too when it has no ETag: files, tests), in any order. Rows are
/// added one at a time, so a store can fingerprint a keys-only read as its pages arrive, without keeping the rows: each
/// row leaves 32 bytes (its own SHA-256), and <see cref="Finish"/> hashes the sorted row hashes. A custom
/// <see cref="Storage.IRegistryStore"/> uses it to implement <see cref="Storage.IRegistryStore.ReadFingerprintAsync"/>.
/// </summary>
public sealed class RegistryFingerprint : IDisposable
{
    // Its own pool, one array per size: the shared pool keeps an array per size for every thread that returned one,
    // and polls run on any thread-pool thread (a 10,000-route gateway held a dozen row arrays of 128-512 KB there).
    // Sized from the previous fingerprint's row count, a poll of an unchanged registry rents one array and grows none.
    private static readonly ArrayPool<RowHash> RowPool = ArrayPool<RowHash>.Create(1 << 20, 1);
    private static int s_expectedRows = 64;

    private RowHash[] _rows = RowPool.Rent(Volatile.Read(ref s_expectedRows));
    private byte[] _text = ArrayPool<byte>.Shared.Rent(256);
    private int _count;

    /// <summary>The fingerprint of everything <paramref name="content"/> holds.</summary>
    public static string Of(RegistryContent content)
    {
        using var fingerprint = new RegistryFingerprint();
        foreach (var row in content.Upstreams.Concat(content.Routes).Concat(content.Schemas))
        {
            fingerprint.Add(row.Table, row.PartitionKey, row.RowKey, row.ETag, row.Properties);
        }

        return fingerprint.Finish();
    }

    /// <summary>Adds one row; <paramref name="properties"/> count only when <paramref name="etag"/> is null.</summary>
    public void Add(RegistryTable table, string partitionKey, string rowKey, string? etag, IReadOnlyDictionary<string, object?>? properties = null)
    {
        var length = 0;
        Append(((int)table).ToString(CultureInfo.InvariantCulture), ref length);
        Append(partitionKey, ref length);
        Append(rowKey, ref length);
        Append(etag ?? "", ref length);
        if (etag is null && properties is not null)
        {
            foreach (var (key, value) in properties.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                Append(key + "=" + Convert.ToString(value, CultureInfo.InvariantCulture), ref length);
            }
        }

        if (_count == _rows.Length)
        {
            // The smaller array is left to the collector, not pooled: the next fingerprint starts at this size.
            var larger = RowPool.Rent(_rows.Length * 2);
            _rows.AsSpan(0, _count).CopyTo(larger);
            _rows = larger;
        }

        SHA256.HashData(_text.AsSpan(0, length), MemoryMarshal.AsBytes(_rows.AsSpan(_count++, 1)));
    }

    /// <summary>The fingerprint of the rows added so far, in hex.</summary>
    public string Finish()
    {
        var rows = _rows.AsSpan(0, _count);
        rows.Sort();
        return Convert.ToHexString(SHA256.HashData(MemoryMarshal.AsBytes(rows)));
    }

    /// <summary>Returns the pooled buffers; the instance cannot be used after.</summary>
    public void Dispose()
    {
        if (_rows.Length > 0)
        {
            Volatile.Write(ref s_expectedRows, Math.Max(64, _count + (_count / 8)));
            RowPool.Return(_rows);
        }

        ArrayPool<byte>.Shared.Return(_text);
        _rows = [];
        _text = [];
    }

    /// <summary>Appends <paramref name="value"/> and a line feed as UTF-8 (a key cannot hold a control character).</summary>
    private void Append(string value, ref int length)
    {
        var needed = length + Encoding.UTF8.GetMaxByteCount(value.Length) + 1;
        if (needed > _text.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(needed);
            _text.AsSpan(0, length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_text);
            _text = larger;
        }

        length += Encoding.UTF8.GetBytes(value, _text.AsSpan(length));
        _text[length++] = (byte)'\n';
    }

    /// <summary>One row's SHA-256; any fixed order of these makes the fingerprint independent of the rows' order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct RowHash(ulong A, ulong B, ulong C, ulong D) : IComparable<RowHash>
    {
        public int CompareTo(RowHash other)
        {
            var c = A.CompareTo(other.A);
            if (c != 0)
            {
                return c;
            }

            c = B.CompareTo(other.B);
            return c != 0 ? c : C != other.C ? C.CompareTo(other.C) : D.CompareTo(other.D);
        }
    }
}
