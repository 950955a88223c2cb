using System.Globalization;
using FuncGateway.Model;
using Microsoft.AspNetCore.Cors.Infrastructure;

namespace FuncGateway.Cors;

/// <summary>
/// Checks one configured policy and builds its <see cref="CorsPolicy"/> with ASP.NET Core's <see cref="CorsPolicyBuilder"/>.
/// The builder takes any string as an origin; the rules that keep a policy safe are checked here, each problem added
/// to the list under the setting's full key: <c>*</c> alone and never with credentials, <c>null</c> only as that
/// literal, origins as <c>scheme://host[:port]</c> without path, query or credentials, a wildcard only as the whole
/// first label of a host with at least two labels after it.
/// </summary>
internal static class CorsPolicyCompiler
{
    public const int MaxAgeLimitSeconds = 86400;

    private const string AnyValue = "*";

    public static GatewayCorsPolicy? Compile(string name, CorsPolicySettings settings, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(errors);
        var at = $"{CorsSettings.SectionName}:Policies:{name}";
        var before = errors.Count;
        if (!ConfigurationNames.IsValid(name))
        {
            errors.Add(ConfigurationNames.Describe(at, "CORS policy", name));
        }

        var builder = new CorsPolicyBuilder();
        AddOrigins(builder, settings, at + ":" + nameof(CorsPolicySettings.AllowedOrigins), errors);

        var methods = Tokens(settings.AllowedMethods, at + ":" + nameof(CorsPolicySettings.AllowedMethods), "method", errors);
        if (IsAny(methods))
        {
            builder.AllowAnyMethod();
        }
        else
        {
            builder.WithMethods(methods);
        }

        var headers = Tokens(settings.AllowedHeaders, at + ":" + nameof(CorsPolicySettings.AllowedHeaders), "header name", errors);
        if (IsAny(headers))
        {
            builder.AllowAnyHeader();
        }
        else
        {
            builder.WithHeaders(headers);
        }

        var exposedAt = at + ":" + nameof(CorsPolicySettings.ExposedHeaders);
        var exposed = Tokens(settings.ExposedHeaders, exposedAt, "header name", errors);
        if (IsAny(exposed) && settings.AllowCredentials)
        {
            errors.Add($"{exposedAt}: '*' with AllowCredentials=true is not a wildcard to browsers (they read it as a header named '*'); list the headers a page may read.");
        }

        builder.WithExposedHeaders(exposed);

        if (settings.AllowCredentials)
        {
            builder.AllowCredentials();
        }
        else
        {
            builder.DisallowCredentials();
        }

        if (settings.MaxAgeSeconds is { } maxAge)
        {
            if (maxAge is < 0 or > MaxAgeLimitSeconds)
            {
                errors.Add($"{at}:{nameof(CorsPolicySettings.MaxAgeSeconds)} must be between 0 and {MaxAgeLimitSeconds.ToString(CultureInfo.InvariantCulture)} (browsers cap it lower: Chromium at 7200).");
            }
            else
            {
                builder.SetPreflightMaxAge(TimeSpan.FromSeconds(maxAge));
            }
        }

        return errors.Count == before ? new GatewayCorsPolicy(name, builder.Build()) : null;
    }

    private static void AddOrigins(CorsPolicyBuilder builder, CorsPolicySettings settings, string at, List<string> errors)
    {
        var entries = HostPattern.SplitList(settings.AllowedOrigins);
        if (entries.Length == 0)
        {
            errors.Add($"{at} is required: the origins whose pages may call the routes, e.g. 'https://app.example.com,https://*.example.com' ('*' for any origin, without credentials).");
            return;
        }

        if (entries.Contains(AnyValue))
        {
            if (entries.Length > 1)
            {
                errors.Add($"{at}: '*' admits every origin and cannot be combined with others; list the origins, or write '*' alone.");
            }
            else if (settings.AllowCredentials)
            {
                errors.Add($"{at}: '*' together with AllowCredentials=true would let any site read answers sent with its visitors' cookies; list the origins instead.");
            }
            else
            {
                builder.AllowAnyOrigin();
            }

            return;
        }

        var origins = new List<string>(entries.Length);
        var wildcard = false;
        foreach (var entry in entries)
        {
            if (ParseOrigin(entry, out var origin, out var isPattern) is { } problem)
            {
                errors.Add($"{at}: '{PrintableText.Of(entry)}' {problem}");
                continue;
            }

            if (origins.Contains(origin!, StringComparer.Ordinal))
            {
                errors.Add($"{at}: '{PrintableText.Of(entry)}' is listed twice.");
                continue;
            }

            origins.Add(origin!);
            wildcard |= isPattern;
        }

        builder.WithOrigins([.. origins]);
        if (wildcard)
        {
            builder.SetIsOriginAllowedToAllowWildcardSubdomains();
        }
    }

    /// <summary>The origin as browsers send it (<c>scheme://host[:port]</c>, lower case, no default port), or the problem with it.</summary>
    internal static string? ParseOrigin(string entry, out string? origin, out bool isPattern)
    {
        origin = null;
        isPattern = false;
        if (entry == GatewayCorsPolicy.NullOrigin)
        {
            origin = entry;
            return null;
        }

        if (string.Equals(entry, GatewayCorsPolicy.NullOrigin, StringComparison.OrdinalIgnoreCase))
        {
            return "is the opaque origin of sandboxed frames and local files: write it exactly 'null' (lower case) if you mean to admit it.";
        }

        var schemeEnd = entry.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return "is not an origin: write scheme://host[:port], e.g. 'https://app.example.com'.";
        }

        var scheme = entry[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            return "is not an http:// or https:// origin.";
        }

        var rest = entry[(schemeEnd + 3)..];
        if (rest.IndexOfAny(['/', '?', '#']) is var cut and >= 0)
        {
            return $"has a {(rest[cut] == '/' ? "path" : rest[cut] == '?' ? "query" : "fragment")}: an origin is scheme://host[:port] only (browsers send no path, not even '/'), so it would never match; write '{scheme}://{rest[..cut]}'.";
        }

        if (rest.Contains('@', StringComparison.Ordinal))
        {
            return "has credentials (user@): an origin is scheme://host[:port] only.";
        }

        var star = rest.IndexOf('*', StringComparison.Ordinal);
        if (star >= 0)
        {
            if (star != 0 || !rest.StartsWith("*.", StringComparison.Ordinal) || rest.IndexOf('*', 1) >= 0)
            {
                return $"has a wildcard in the wrong place: '*' stands only for the whole first label of the host, as in '{scheme}://*.example.com'.";
            }

            isPattern = true;
            rest = rest[2..];
        }

        if (!Uri.TryCreate(scheme + "://" + rest, UriKind.Absolute, out var uri) || uri.HostNameType is UriHostNameType.Unknown
            || uri.Authority.Length == 0 || !string.Equals(uri.Authority, StripDefaultPort(rest, uri), StringComparison.OrdinalIgnoreCase))
        {
            return "is not a valid origin: write scheme://host[:port], e.g. 'https://app.example.com'.";
        }

        if (isPattern && (uri.HostNameType != UriHostNameType.Dns || !uri.Host.Contains('.', StringComparison.Ordinal)))
        {
            return "would match every host under a top-level domain (or is not a DNS name): name a domain, as in 'https://*.example.com'.";
        }

        var authority = uri.IsDefaultPort ? uri.Host : uri.Host + ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
        origin = scheme + "://" + (isPattern ? "*." : "") + authority;
        return null;
    }

    // Uri.Authority drops a default port: compare with the text so written the same way.
    private static string StripDefaultPort(string rest, Uri uri)
    {
        var suffix = ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
        return uri.IsDefaultPort && rest.EndsWith(suffix, StringComparison.Ordinal) ? rest[..^suffix.Length] : rest;
    }

    private static string[] Tokens(string? text, string at, string kind, List<string> errors)
    {
        var items = HostPattern.SplitList(text);
        foreach (var item in items)
        {
            if (item == AnyValue)
            {
                if (items.Length > 1)
                {
                    errors.Add($"{at}: '*' means any {kind} and cannot be combined with others.");
                }
            }
            else if (!HttpSyntax.IsToken(item))
            {
                errors.Add($"{at}: '{PrintableText.Of(item)}' is not a valid {kind} (RFC 9110 token).");
            }
        }

        return items;
    }

    private static bool IsAny(string[] items) => items.Length == 1 && items[0] == AnyValue;
}
