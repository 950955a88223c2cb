using Microsoft.Extensions.Primitives;

namespace FuncGateway.Diagnostics;

/// <summary>
/// The W3C Trace Context rules for a <c>tracestate</c> the gateway passes on (§3.3.1): the header's fields read as one
/// list; a list that is not valid (a member off the key or value grammar, a key twice, more than 32 members) is
/// discarded whole; a valid one longer than 512 characters is cut by whole members, those over 128 characters
/// first, then from the right (§3.3.1.5). A valid list within the limits is returned as it came, without allocating.
/// </summary>
internal static class TraceState
{
    public const int MaxMembers = 32;
    public const int MaxLength = 512;
    public const int MaxMemberLengthKeptFirst = 128;

    /// <summary>The list to pass on from the header's fields, or null (none, or not valid).</summary>
    public static string? Limit(StringValues fields) => fields.Count switch
    {
        0 => null,
        1 => Limit(fields[0]),
        _ => Limit(string.Join(',', fields.ToArray())),
    };

    /// <summary>The list to pass on, or null (none, empty, or not valid).</summary>
    public static string? Limit(string? list)
    {
        if (string.IsNullOrEmpty(list))
        {
            return null;
        }

        // Members as ranges of the list, at most 32 of them (a 33rd makes the list invalid); one pass, no allocation.
        Span<Range> members = stackalloc Range[MaxMembers];
        var count = 0;
        var length = 0;
        var trimmed = false;
        var start = 0;
        while (start <= list.Length)
        {
            var end = list.IndexOf(',', start);
            if (end < 0)
            {
                end = list.Length;
            }

            var from = start;
            var to = end;
            while (from < to && list[from] is ' ' or '\t')
            {
                from++;
            }

            while (to > from && list[to - 1] is ' ' or '\t')
            {
                to--;
            }

            if (from < to)
            {
                if (count == MaxMembers || !IsMember(list.AsSpan(from, to - from), out var keyLength))
                {
                    return null;
                }

                var key = list.AsSpan(from, keyLength);
                for (var i = 0; i < count; i++)
                {
                    var other = list.AsSpan(members[i]);
                    if (other.Length > keyLength && other[keyLength] == '=' && other.StartsWith(key, StringComparison.Ordinal))
                    {
                        return null;
                    }
                }

                members[count++] = new Range(from, to);
                length += (count > 1 ? 1 : 0) + (to - from);
            }

            // Whitespace around a member, or an empty member, means the list is not passed on as it came.
            trimmed |= from != start || to != end || from == to;
            start = end + 1;
        }

        if (count == 0)
        {
            return null;
        }

        if (length <= MaxLength && !trimmed)
        {
            return list;
        }

        return Cut(list, members[..count], length);
    }

    /// <summary>The members joined by commas, dropping those over 128 characters first, then from the right, to 512 characters.</summary>
    private static string? Cut(string list, Span<Range> members, int length)
    {
        Span<bool> dropped = stackalloc bool[members.Length];
        var kept = members.Length;
        for (var i = members.Length - 1; i >= 0 && length > MaxLength; i--)
        {
            if (list.AsSpan(members[i]).Length > MaxMemberLengthKeptFirst)
            {
                dropped[i] = true;
                kept--;
                length -= list.AsSpan(members[i]).Length + (kept > 0 ? 1 : 0);
            }
        }

        for (var i = members.Length - 1; i >= 0 && length > MaxLength; i--)
        {
            if (!dropped[i])
            {
                dropped[i] = true;
                kept--;
                length -= list.AsSpan(members[i]).Length + (kept > 0 ? 1 : 0);
            }
        }

        if (kept == 0)
        {
            return null;
        }

        var builder = new System.Text.StringBuilder(length);
        for (var i = 0; i < members.Length; i++)
        {
            if (!dropped[i])
            {
                if (builder.Length > 0)
                {
                    builder.Append(',');
                }

                builder.Append(list.AsSpan(members[i]));
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// <c>key=value</c> as §3.3.1.3 writes them: a key of lower-case letters, digits and <c>_-*/</c> starting with a letter
    /// (up to 256), or <c>tenant@system</c> (up to 241 and 14); a value of up to 256 printable ASCII characters but
    /// <c>,</c> and <c>=</c>, not ending in a space.
    /// </summary>
    private static bool IsMember(ReadOnlySpan<char> member, out int keyLength)
    {
        keyLength = member.IndexOf('=');
        if (keyLength <= 0)
        {
            return false;
        }

        var key = member[..keyLength];
        var value = member[(keyLength + 1)..];
        var at = key.IndexOf('@');
        var keyValid = at < 0
            ? key.Length <= 256 && IsLowerAlpha(key[0]) && IsKeyTail(key[1..])
            : at is > 0 and <= 241 && key.Length - at - 1 is > 0 and <= 14
                && (IsLowerAlpha(key[0]) || char.IsAsciiDigit(key[0])) && IsKeyTail(key[1..at])
                && IsLowerAlpha(key[at + 1]) && IsKeyTail(key[(at + 2)..]);
        if (!keyValid || value.Length is 0 or > 256 || value[^1] == ' ')
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < ' ' or > '~' or ',' or '=')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLowerAlpha(char c) => c is >= 'a' and <= 'z';

    private static bool IsKeyTail(ReadOnlySpan<char> rest)
    {
        foreach (var c in rest)
        {
            if (!(IsLowerAlpha(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '*' or '/'))
            {
                return false;
            }
        }

        return true;
    }
}
