using System.Text;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>
/// Edits a raw query string parameter by parameter, keeping every byte of the parameters it does not touch (order,
/// encoding, duplicates), so "the rest of the query passes byte for byte" holds whoever edits it. Names compare
/// case-insensitively after percent-decoding (<c>Code</c> and <c>%63ode</c> are <c>code</c>), as ASP.NET Core reads them.
/// A removal also takes the parameter's bracketed forms (<c>tenant[]</c>, <c>tenant[0]</c>, <c>tenant%5B%5D</c>), which
/// PHP, Rack and Express (qs) read as the parameter itself.
/// </summary>
internal static class QueryStringEditor
{
    /// <summary>The query with the named parameters (and their bracketed forms) removed. Allocates only when something is removed.</summary>
    public static QueryString Remove(QueryString query, params ReadOnlySpan<string?> names) => Edit(query, names, replacement: null);

    /// <summary>
    /// The query with nothing removed, but every <c>;</c> that starts one of the named parameters (or its bracketed
    /// form) inside another parameter written <c>%3B</c> (<c>x=1;page=evil</c>, <c>page=1;page=2</c>): what a route
    /// checked under those names is what a server that reads <c>;</c> as a separator reads too. Allocates only when
    /// such a <c>;</c> is there.
    /// </summary>
    public static QueryString Shield(QueryString query, ReadOnlySpan<string?> names) =>
        query.HasValue && query.Value!.Contains(';') ? Edit(query, names, replacement: null, shieldOnly: true) : query;

    /// <summary>
    /// The query with every <paramref name="from"/> parameter renamed <paramref name="to"/> (its value bytes kept),
    /// and any <paramref name="to"/> parameter that was already there removed. Unchanged when there is no <paramref name="from"/>.
    /// </summary>
    public static QueryString Rename(QueryString query, string from, string to)
    {
        if (!Contains(query, from))
        {
            return query;
        }

        return Edit(Remove(query, to), [from], Uri.EscapeDataString(to));
    }

    /// <summary>The query with every <paramref name="name"/> parameter removed and <c>name=value</c> (both escaped) appended.</summary>
    public static QueryString Set(QueryString query, string name, string value)
    {
        var kept = Remove(query, name);
        var pair = Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value);
        return new QueryString(kept.HasValue ? kept.Value + "&" + pair : "?" + pair);
    }

    /// <summary>True when the query has a parameter of this name.</summary>
    public static bool Contains(QueryString query, string name)
    {
        if (!query.HasValue)
        {
            return false;
        }

        var text = query.Value!.AsSpan(1);
        foreach (var range in text.Split('&'))
        {
            if (IsNamed(text[range], [name], bracketed: false))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Removes the named parameters, or (with a <paramref name="replacement"/> name) renames them, keeping their values.
    /// A kept parameter in which a <c>;</c> is followed by one of the names (<c>x=1;tenant=evil</c>) has its <c>;</c>
    /// written <c>%3B</c>: servers that read <c>;</c> as a separator (Python before 3.9.2, some Java stacks) would see
    /// the name as a parameter the gateway left in place; encoded, every server reads the one value the gateway saw.
    /// </summary>
    private static QueryString Edit(QueryString query, ReadOnlySpan<string?> names, string? replacement, bool shieldOnly = false)
    {
        if (!query.HasValue || names.IsEmpty)
        {
            return query;
        }

        var text = query.Value!.AsSpan(1);
        var semicolons = text.Contains(';');
        StringBuilder? builder = null;
        var keptBefore = false;
        foreach (var range in text.Split('&'))
        {
            var pair = text[range];
            var named = !shieldOnly && IsNamed(pair, names, bracketed: replacement is null);
            var hiding = !named && semicolons && HidesName(pair, names);
            if (!named || replacement is not null)
            {
                if (builder is null && !named && !hiding)
                {
                    keptBefore = true;
                    continue;
                }

                if (builder is null)
                {
                    // The first change: everything before this pair was kept as it is.
                    builder = new StringBuilder(text.Length + 16);
                    if (keptBefore)
                    {
                        builder.Append('?').Append(text[..(range.Start.Value - 1)]);
                    }
                }

                builder.Append(builder.Length == 0 ? '?' : '&');
                if (named)
                {
                    var equals = pair.IndexOf('=');
                    builder.Append(replacement).Append(equals < 0 ? [] : pair[equals..]);
                }
                else if (hiding)
                {
                    foreach (var c in pair)
                    {
                        if (c == ';')
                        {
                            builder.Append("%3B");
                        }
                        else
                        {
                            builder.Append(c);
                        }
                    }
                }
                else
                {
                    builder.Append(pair);
                }

                continue;
            }

            if (builder is null)
            {
                // The first removal: everything before this pair was kept as it is.
                builder = new StringBuilder(text.Length + 1);
                if (keptBefore)
                {
                    builder.Append('?').Append(text[..(range.Start.Value - 1)]);
                }
            }
        }

        return builder is null ? query : builder.Length == 0 ? QueryString.Empty : new QueryString(builder.ToString());
    }

    /// <summary>Whether a <c>;</c> in the pair starts a piece that, read as a parameter, is one of the names (or its bracketed form).</summary>
    private static bool HidesName(ReadOnlySpan<char> pair, ReadOnlySpan<string?> names)
    {
        var semicolon = pair.IndexOf(';');
        if (semicolon < 0)
        {
            return false;
        }

        var rest = pair[(semicolon + 1)..];
        foreach (var range in rest.Split(';'))
        {
            if (IsNamed(rest[range], names, bracketed: true))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether a decoded parameter name is a bracketed form of <paramref name="parameter"/> (<c>name[]</c>, <c>name[0]</c>,
    /// <c>name[x]</c>, compared ignoring case), which PHP, Rack and Express (qs) read as the parameter itself.
    /// </summary>
    public static bool IsBracketedForm(ReadOnlySpan<char> name, string parameter) =>
        name.Length > parameter.Length && name[parameter.Length] == '[' && name.StartsWith(parameter, StringComparison.OrdinalIgnoreCase);

    // With bracketed (removals), name[…] counts as name too.
    private static bool IsNamed(ReadOnlySpan<char> pair, ReadOnlySpan<string?> names, bool bracketed)
    {
        var equals = pair.IndexOf('=');
        ReadOnlySpan<char> name = equals < 0 ? pair : pair[..equals];
        if (name.ContainsAny('%', '+'))
        {
            name = Uri.UnescapeDataString(name.ToString().Replace('+', ' '));
        }

        foreach (var candidate in names)
        {
            if (candidate is null)
            {
                continue;
            }

            if (name.Equals(candidate, StringComparison.OrdinalIgnoreCase) || (bracketed && IsBracketedForm(name, candidate)))
            {
                return true;
            }
        }

        return false;
    }
}
