namespace FuncGateway.Model;

/// <summary>
/// The rule for names that the configuration defines and that become part of a setting's key: policy names (auth and
/// rate limits) and rate-limit tier names. <c>FuncGateway:RateLimits:Policies:per_ip:Limit</c> is the app setting
/// <c>FuncGateway__RateLimits__Policies__per_ip__Limit</c>; Azure accepts only letters, digits, '.' and '_' in an app
/// setting name, and a shell variable name takes no '.' either, so a name is letters and digits with single '_'
/// between them ('__' would read as the key separator).
/// </summary>
internal static class ConfigurationNames
{
    /// <summary>The longest name.</summary>
    public const int MaxLength = 64;

    /// <summary>The rule, for error messages.</summary>
    public const string Rule =
        "1-64 letters and digits, with single '_' between them (no '-' or '.': a name is part of an app setting name, " +
        "where Azure and shells accept neither)";

    /// <summary>Whether <paramref name="name"/> can be written in an app setting name and an environment variable.</summary>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || name[0] == '_' || name[^1] == '_')
        {
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (!char.IsAsciiLetterOrDigit(c) && !(c == '_' && name[i - 1] != '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The error for a name that breaks the rule, with the name it could be renamed to.</summary>
    public static string Describe(string at, string kind, string name)
    {
        var suggestion = Suggest(name);
        return $"{at}: '{PrintableText.Of(name)}' is not a valid {kind} name: use {Rule}." +
            (IsValid(suggestion) ? $" Rename it, e.g. to '{suggestion}', here and wherever it is named (routes' properties, keys' tiers)." : "");
    }

    private static string Suggest(string name)
    {
        var chars = name.Select(static c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray();
        var text = new string(chars);
        while (text.Contains("__", StringComparison.Ordinal))
        {
            text = text.Replace("__", "_", StringComparison.Ordinal);
        }

        return text.Trim('_');
    }
}
