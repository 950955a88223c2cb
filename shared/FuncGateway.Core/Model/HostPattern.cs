using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>
/// A route's host pattern: <c>api.example.com</c>, <c>*.example.com</c> (any subdomain, not the domain itself) or
/// <c>*</c> (any host), each with an optional <c>:port</c> that the request must then use. Hosts compare
/// case-insensitively; a request without an explicit port uses its scheme's default (80, 443).
/// </summary>
internal sealed class HostPattern
{
    /// <summary>The items of a comma-separated setting (host lists, allowlists), trimmed, empty ones dropped.</summary>
    public static string[] SplitList(string? text) =>
        string.IsNullOrWhiteSpace(text) ? [] : text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private const int NoPort = -1;

    private readonly HostPatternKind _kind;

    // The whole host for Exact, the suffix including its leading dot (".example.com") for Subdomain.
    private readonly string _host;
    private readonly int _port;

    private HostPattern(string text, HostPatternKind kind, string host, int port)
    {
        Text = text;
        _kind = kind;
        _host = host;
        _port = port;
    }

    private enum HostPatternKind
    {
        Any,
        Exact,
        Subdomain,
    }

    public string Text { get; }

    public static bool TryParse(
        string? pattern,
        [NotNullWhen(true)] out HostPattern? result,
        [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(pattern))
        {
            error = "Host is empty; use a host name such as 'api.example.com' or '*.example.com'.";
            return false;
        }

        if (pattern.AsSpan().IndexOfAny("/ \t") >= 0)
        {
            error = $"Host '{pattern}' must be a host name with an optional port, such as 'api.example.com' or "
                + "'*.example.com:8443', without a scheme or path.";
            return false;
        }

        if (!TrySplit(pattern, out var host, out var portText))
        {
            error = $"Host '{pattern}' is not valid; write IPv6 addresses in brackets, such as '[::1]:8080'.";
            return false;
        }

        var port = NoPort;
        if (portText.Length > 0 || host.Length < pattern.Length)
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port)
                || port is < 1 or > 65535)
            {
                error = $"Host '{pattern}': port '{portText}' is not a number between 1 and 65535.";
                return false;
            }
        }

        if (host.IsEmpty)
        {
            error = $"Host '{pattern}' has no host name; use '*:{portText}' to match any host on that port.";
            return false;
        }

        var hostText = host.ToString();
        if (hostText == "*")
        {
            result = new HostPattern(pattern, HostPatternKind.Any, string.Empty, port);
        }
        else if (hostText.StartsWith("*.", StringComparison.Ordinal) && hostText.Length > 2
            && hostText.IndexOf('*', 1) < 0)
        {
            result = new HostPattern(pattern, HostPatternKind.Subdomain, hostText[1..], port);
        }
        else if (hostText.Contains('*', StringComparison.Ordinal))
        {
            error = $"Host '{pattern}': '*' is only allowed as the whole first label, as in '*.example.com'.";
            return false;
        }
        else
        {
            result = new HostPattern(pattern, HostPatternKind.Exact, hostText, port);
        }

        error = null;
        return true;
    }

    public bool Matches(HttpRequest request) => Matches(request.Host.Value, request.Scheme);

    /// <summary>Matches a host as sent in <c>Host</c> (<c>name</c>, <c>name:port</c>, <c>[v6]:port</c>) on a request of <paramref name="scheme"/>.</summary>
    public bool Matches(string? value, string scheme)
    {
        if (string.IsNullOrEmpty(value))
        {
            // No Host header at all (HTTP/1.0): only "*" can match.
            return _kind == HostPatternKind.Any && _port == NoPort;
        }

        if (!TrySplit(value, out var host, out var portText))
        {
            return false;
        }

        // A port no connection can have (99999, 0, +1) names no host this gateway serves, so none is vouched for upstream.
        if (!portText.IsEmpty && !IsPort(portText))
        {
            return false;
        }

        if (_port != NoPort && RequestPort(scheme, portText) != _port)
        {
            return false;
        }

        return _kind switch
        {
            HostPatternKind.Any => true,
            HostPatternKind.Exact => host.Equals(_host, StringComparison.OrdinalIgnoreCase),
            _ => host.Length > _host.Length && host.EndsWith(_host, StringComparison.OrdinalIgnoreCase),
        };
    }

    private static bool IsPort(ReadOnlySpan<char> text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535;

    private static int RequestPort(string scheme, ReadOnlySpan<char> portText)
    {
        if (!portText.IsEmpty)
        {
            return int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : NoPort;
        }

        // Same rule as ASP.NET Core's host matching: a missing port is the scheme's default.
        if (string.Equals(scheme, "https", StringComparison.OrdinalIgnoreCase))
        {
            return 443;
        }

        return string.Equals(scheme, "http", StringComparison.OrdinalIgnoreCase) ? 80 : NoPort;
    }

    /// <summary>Splits "host", "host:port", "[v6]" or "[v6]:port"; fails on an unbracketed IPv6 address.</summary>
    private static bool TrySplit(string value, out ReadOnlySpan<char> host, out ReadOnlySpan<char> port)
    {
        var span = value.AsSpan();
        port = default;
        if (span[0] == '[')
        {
            var close = span.IndexOf(']');
            if (close < 0 || (close + 1 < span.Length && span[close + 1] != ':'))
            {
                host = default;
                return false;
            }

            host = span[..(close + 1)];
            port = close + 1 < span.Length ? span[(close + 2)..] : default;
            return true;
        }

        var colon = span.IndexOf(':');
        if (colon < 0)
        {
            host = span;
            return true;
        }

        if (span[(colon + 1)..].Contains(':'))
        {
            host = default;
            return false;
        }

        host = span[..colon];
        port = span[(colon + 1)..];
        return true;
    }
}
