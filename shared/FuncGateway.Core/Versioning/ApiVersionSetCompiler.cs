using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using FuncGateway.Model;

namespace FuncGateway.Versioning;

/// <summary>
/// Checks one configured version set and builds its <see cref="ApiVersionSet"/>; every problem is added to the list
/// under the setting's full key, so start-up fails naming them all.
/// </summary>
internal static class ApiVersionSetCompiler
{
    public const int MaxPathPrefixLength = 16;

    private static readonly string[] DateFormats =
    [
        "yyyy'-'MM'-'dd",
        "yyyy'-'MM'-'dd'T'HH':'mm':'ssK",
        "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'FFFFFFFK",
    ];

    public static ApiVersionSet? Compile(string name, VersionSetSettings settings, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(errors);
        var at = $"{VersioningSettings.SectionName}:Sets:{name}";
        var before = errors.Count;
        if (!ConfigurationNames.IsValid(name))
        {
            errors.Add(ConfigurationNames.Describe(at, "version set", name));
        }

        var scheme = default(ApiVersionScheme);
        if (string.IsNullOrWhiteSpace(settings.Scheme))
        {
            errors.Add($"{at}:{nameof(VersionSetSettings.Scheme)} is required: Path, Header, Query or MediaType.");
        }
        else if (Enum.GetNames<ApiVersionScheme>().FirstOrDefault(n => n.Equals(settings.Scheme.Trim(), StringComparison.OrdinalIgnoreCase)) is { } schemeName)
        {
            scheme = Enum.Parse<ApiVersionScheme>(schemeName);
        }
        else
        {
            errors.Add($"{at}:{nameof(VersionSetSettings.Scheme)} '{PrintableText.Of(settings.Scheme)}' is not a scheme: write Path, Header, Query or MediaType.");
        }

        var parameter = CheckParameter(scheme, settings.Parameter?.Trim(), $"{at}:{nameof(VersionSetSettings.Parameter)}", errors);
        var pathPrefix = CheckPathPrefix(scheme, settings.PathPrefix, $"{at}:{nameof(VersionSetSettings.PathPrefix)}", errors);
        var versions = CheckVersions(settings.Versions, $"{at}:{nameof(VersionSetSettings.Versions)}", errors);

        string? defaultVersion = null;
        if (!string.IsNullOrWhiteSpace(settings.Default))
        {
            defaultVersion = Find(versions, settings.Default.Trim());
            if (defaultVersion is null)
            {
                errors.Add($"{at}:{nameof(VersionSetSettings.Default)} '{PrintableText.Of(settings.Default)}' is not one of the set's Versions ({string.Join(", ", versions)}).");
            }
        }

        var deprecations = new Dictionary<string, VersionDeprecation>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, deprecation) in settings.Deprecations.OrderBy(static d => d.Key, StringComparer.Ordinal))
        {
            var entryAt = $"{at}:{nameof(VersionSetSettings.Deprecations)}:{key}";
            var named = string.IsNullOrWhiteSpace(deprecation.Version) ? key : deprecation.Version.Trim();
            var version = Find(versions, named);
            if (version is null)
            {
                errors.Add(string.IsNullOrWhiteSpace(deprecation.Version)
                    ? $"{entryAt}: '{PrintableText.Of(key)}' is not one of the set's Versions ({string.Join(", ", versions)}); name the version in {entryAt}:{nameof(VersionDeprecationSettings.Version)} when the key is a label."
                    : $"{entryAt}:{nameof(VersionDeprecationSettings.Version)} '{PrintableText.Of(named)}' is not one of the set's Versions ({string.Join(", ", versions)}).");
                continue;
            }

            if (CompileDeprecation(deprecation, entryAt, errors) is { } compiled && !deprecations.TryAdd(version, compiled))
            {
                errors.Add($"{entryAt}: version '{version}' is deprecated twice.");
            }
        }

        return errors.Count == before
            ? new ApiVersionSet(name, scheme, parameter!, pathPrefix, versions, defaultVersion, deprecations.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase))
            : null;
    }

    /// <summary>The time in <paramref name="text"/> (ISO 8601 date, or date and time with <c>Z</c> or an offset; UTC without one).</summary>
    internal static bool TryParseDate(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(text.Trim(), DateFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    private static string? CheckParameter(ApiVersionScheme scheme, string? parameter, string at, List<string> errors)
    {
        if (string.IsNullOrEmpty(parameter))
        {
            return scheme switch
            {
                ApiVersionScheme.Path => "version",
                ApiVersionScheme.Header => "Api-Version",
                ApiVersionScheme.Query => "api-version",
                _ => "v",
            };
        }

        var valid = scheme switch
        {
            ApiVersionScheme.Path => IsRouteParameterName(parameter),
            ApiVersionScheme.Query => !parameter.Any(static c => char.IsControl(c) || c is '&' or '=' or '#' or '?' or ' '),
            _ => HttpSyntax.IsToken(parameter),
        };
        if (!valid)
        {
            errors.Add(scheme switch
            {
                ApiVersionScheme.Path => $"{at} '{PrintableText.Of(parameter)}' is not a route parameter name (letters, digits and '_', not starting with a digit).",
                ApiVersionScheme.Query => $"{at} '{PrintableText.Of(parameter)}' is not a query parameter name (no spaces, control characters, '&', '=', '#' or '?').",
                ApiVersionScheme.Header => $"{at} '{PrintableText.Of(parameter)}' is not a header name (RFC 9110 token).",
                _ => $"{at} '{PrintableText.Of(parameter)}' is not a media type parameter name (RFC 9110 token).",
            });
        }

        return parameter;
    }

    private static string CheckPathPrefix(ApiVersionScheme scheme, string? prefix, string at, List<string> errors)
    {
        if (prefix is null)
        {
            return scheme == ApiVersionScheme.Path ? "v" : "";
        }

        if (scheme != ApiVersionScheme.Path)
        {
            errors.Add($"{at} applies to Scheme Path only.");
            return "";
        }

        if (prefix.Length > MaxPathPrefixLength || !prefix.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            errors.Add($"{at} '{PrintableText.Of(prefix)}' must be 0-{MaxPathPrefixLength} letters, digits, '.', '-' and '_'.");
        }

        return prefix;
    }

    private static ImmutableArray<string> CheckVersions(string? text, string at, List<string> errors)
    {
        var items = (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (items.Length == 0)
        {
            errors.Add($"{at} is required: the versions of the API, comma-separated (e.g. '1,2').");
            return [];
        }

        var versions = ImmutableArray.CreateBuilder<string>(items.Length);
        foreach (var item in items)
        {
            if (!ApiVersionSyntax.IsValid(item))
            {
                errors.Add($"{at}: '{PrintableText.Of(item)}' is not a valid version: {ApiVersionSyntax.Rule}.");
            }
            else if (Find(versions, item) is not null)
            {
                errors.Add($"{at}: '{item}' is listed twice (versions compare case-insensitively).");
            }
            else
            {
                versions.Add(item);
            }
        }

        return versions.ToImmutable();
    }

    private static VersionDeprecation? CompileDeprecation(VersionDeprecationSettings settings, string at, List<string> errors)
    {
        var before = errors.Count;
        var date = Date(settings.Date, $"{at}:{nameof(VersionDeprecationSettings.Date)}", required: true, errors);
        var sunset = Date(settings.Sunset, $"{at}:{nameof(VersionDeprecationSettings.Sunset)}", required: false, errors);
        if (date is { } d && sunset is { } s && s < d)
        {
            errors.Add($"{at}:{nameof(VersionDeprecationSettings.Sunset)} is before {at}:{nameof(VersionDeprecationSettings.Date)}: a version is deprecated before it goes away.");
        }

        var links = ImmutableArray.CreateBuilder<string>();
        if (Link(settings.SuccessorLink, $"{at}:{nameof(VersionDeprecationSettings.SuccessorLink)}", errors) is { } successor)
        {
            links.Add($"<{successor}>; rel=\"successor-version\"");
        }

        if (Link(settings.DeprecationLink, $"{at}:{nameof(VersionDeprecationSettings.DeprecationLink)}", errors) is { } documentation)
        {
            links.Add($"<{documentation}>; rel=\"deprecation\"");
        }

        if (errors.Count > before || date is null)
        {
            return null;
        }

        return new VersionDeprecation(
            "@" + date.Value.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            sunset?.ToString("r", CultureInfo.InvariantCulture),
            links.ToImmutable());
    }

    private static DateTimeOffset? Date(string? text, string at, bool required, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                errors.Add($"{at} is required: when the version is (or will be) deprecated, e.g. '2026-01-01' or '2026-01-01T00:00:00Z'.");
            }

            return null;
        }

        if (!TryParseDate(text, out var value))
        {
            errors.Add($"{at} '{PrintableText.Of(text)}' is not an ISO 8601 date or date-time, e.g. '2026-01-01' or '2026-01-01T00:00:00Z'.");
            return null;
        }

        return value;
    }

    private static string? Link(string? text, string at, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        var printable = !text.Any(static c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '<' or '>' or '"');
        var absolute = Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
        var path = text.StartsWith('/') && !text.StartsWith("//", StringComparison.Ordinal) && Uri.IsWellFormedUriString(text, UriKind.Relative);
        if (printable && (absolute || path))
        {
            return text;
        }

        errors.Add($"{at} '{PrintableText.Of(text)}' is not an absolute http(s) URL or a path beginning with '/' (without spaces, '<', '>' or quotes).");
        return null;
    }

    private static bool IsRouteParameterName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(static c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static string? Find(IEnumerable<string> versions, string text) =>
        versions.FirstOrDefault(v => string.Equals(v, text, StringComparison.OrdinalIgnoreCase));
}
