using FuncGateway.Model;

namespace FuncGateway.Validation;

/// <summary>
/// A route's injection screening, compiled once per snapshot: which signatures (SQL, XSS) and which body fields are
/// free text. Screens the path, every query value, every header value but credentials, and JSON string values.
/// </summary>
internal sealed class InjectionScreen
{
    // Credentials are opaque tokens, never text a database or page sees; their values are not screened (nor echoed).
    private static readonly HashSet<string> UnscreenedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization",
    };

    private readonly string[][] _freeText;

    private InjectionScreen(bool sql, bool xss, string[][] freeText)
    {
        Sql = sql;
        Xss = xss;
        _freeText = freeText;
    }

    public bool Sql { get; }

    public bool Xss { get; }

    public static InjectionScreen? Create(InjectionDefinition? definition, List<string> errors)
    {
        if (definition is null)
        {
            return null;
        }

        var sql = definition.Sql ?? false;
        var xss = definition.Xss ?? false;
        if (!sql && !xss)
        {
            errors.Add("Validation injection screens nothing: set \"sql\": true, \"xss\": true or both.");
            return null;
        }

        var freeText = new List<string[]>();
        foreach (var pointer in definition.FreeText ?? [])
        {
            if (pointer is null || (pointer.Length > 0 && pointer[0] != '/'))
            {
                errors.Add($"Validation injection.freeText: '{PrintableText.Of(pointer ?? "null")}' is not a JSON Pointer (it starts with '/', e.g. \"/comment\" or \"/items/*/note\").");
                continue;
            }

            freeText.Add(pointer.Length == 0 ? [] : [.. pointer[1..].Split('/').Select(Unescape)]);
        }

        return new InjectionScreen(sql, xss, [.. freeText]);
    }

    public void ScreenPath(string path, ViolationList violations) => Screen("path", "", path, violations);

    public void ScreenQuery(string name, string value, ViolationList violations)
    {
        Screen("query", name, name, violations);
        Screen("query", name, value, violations);
    }

    public void ScreenHeader(string name, string value, ViolationList violations)
    {
        if (!UnscreenedHeaders.Contains(name))
        {
            Screen("header", name, value, violations);
        }
    }

    /// <summary>Screens a JSON string value unless its field (or one above it) is free text.</summary>
    public void ScreenBodyValue(string pointer, string value, ViolationList violations)
    {
        if (!IsFreeText(pointer))
        {
            Screen("body", pointer, value, violations);
        }
    }

    /// <summary>Whether <paramref name="value"/> matches a signature this screen looks for (wherever it is).</summary>
    public bool Matches(string value) =>
        value.Length > 0 && ((Sql && InjectionSignatures.IsSqlInjection(value)) || (Xss && InjectionSignatures.IsXss(value)));

    internal bool IsFreeText(string pointer)
    {
        if (_freeText.Length == 0)
        {
            return false;
        }

        var segments = pointer.Length == 0 ? [] : pointer[1..].Split('/').Select(Unescape).ToArray();
        foreach (var pattern in _freeText)
        {
            if (pattern.Length > segments.Length)
            {
                continue;
            }

            var match = true;
            for (var i = 0; i < pattern.Length && match; i++)
            {
                match = pattern[i] == "*" || string.Equals(pattern[i], segments[i], StringComparison.Ordinal);
            }

            if (match)
            {
                return true;
            }
        }

        return false;
    }

    private void Screen(string where, string location, string value, ViolationList violations)
    {
        if (value.Length == 0)
        {
            return;
        }

        if (Sql && InjectionSignatures.IsSqlInjection(value))
        {
            violations.Add(where, location, "sqlInjection", "The value matches an SQL-injection signature.");
        }
        else if (Xss && InjectionSignatures.IsXss(value))
        {
            violations.Add(where, location, "xss", "The value matches a cross-site-scripting signature.");
        }
    }

    private static string Unescape(string segment) =>
        segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
}
