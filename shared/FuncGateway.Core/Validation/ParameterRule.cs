using System.Globalization;
using System.Text.RegularExpressions;
using FuncGateway.Model;

namespace FuncGateway.Validation;

/// <summary>The value types a query parameter or header rule can require.</summary>
internal enum ParameterType
{
    String,
    Integer,
    Number,
    Boolean,
    Uuid,
    Date,
    DateTime,
}

/// <summary>A query parameter or header rule, compiled once per snapshot: its type check and its pattern.</summary>
internal sealed class ParameterRule
{
    /// <summary>How long one pattern may run on one value before the value is refused.</summary>
    public static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(100);

    private const int MaxPatternLength = 1000;

    private static readonly Dictionary<string, ParameterType> Types = new(StringComparer.Ordinal)
    {
        ["string"] = ParameterType.String,
        ["integer"] = ParameterType.Integer,
        ["number"] = ParameterType.Number,
        ["boolean"] = ParameterType.Boolean,
        ["uuid"] = ParameterType.Uuid,
        ["date"] = ParameterType.Date,
        ["date-time"] = ParameterType.DateTime,
    };

    private readonly Regex? _pattern;

    private ParameterRule(string name, bool required, ParameterType type, Regex? pattern, int? maxLength)
    {
        Name = name;
        Required = required;
        Type = type;
        _pattern = pattern;
        MaxLength = maxLength;
        UnderscoreSpellings = UnderscoreSpellingsOf(name);
    }

    public string Name { get; }

    /// <summary>
    /// For a header rule: the name with some or all of its <c>-</c> written <c>_</c> (<c>X_Request_Id</c>,
    /// <c>X-Request_Id</c>, …). CGI-style upstreams (WSGI, PHP, Rack) read <c>X_Request_Id</c> and
    /// <c>X-Request-Id</c> as the same variable, so the rule's value checks hold for these spellings too. Empty for a
    /// name without <c>-</c>; null when the name has too many to list, and request headers are compared instead.
    /// </summary>
    public string[]? UnderscoreSpellings { get; }

    private const int MaxListedDashes = 6;

    private static string[]? UnderscoreSpellingsOf(string name)
    {
        var dashes = name.Count(static c => c == '-');
        if (dashes > MaxListedDashes)
        {
            return null;
        }

        var spellings = new string[(1 << dashes) - 1];
        for (var mask = 1; mask < 1 << dashes; mask++)
        {
            var chars = name.ToCharArray();
            for (int i = 0, dash = 0; i < chars.Length; i++)
            {
                if (chars[i] == '-' && (mask & (1 << dash++)) != 0)
                {
                    chars[i] = '_';
                }
            }

            spellings[mask - 1] = new string(chars);
        }

        return spellings;
    }

    /// <summary>Whether <paramref name="header"/> is <see cref="Name"/> with at least one <c>-</c> written <c>_</c>, ignoring case.</summary>
    public bool IsUnderscoreSpelling(string header)
    {
        if (header.Length != Name.Length || !header.Contains('_'))
        {
            return false;
        }

        for (var i = 0; i < header.Length; i++)
        {
            var expected = Name[i];
            var actual = header[i];
            if (expected == '-' ? actual is not ('-' or '_') : char.ToUpperInvariant(actual) != char.ToUpperInvariant(expected))
            {
                return false;
            }
        }

        return true;
    }

    public bool Required { get; }

    public ParameterType Type { get; }

    public int? MaxLength { get; }

    /// <summary>The type names, for messages.</summary>
    public static string TypeNames => string.Join(", ", Types.Keys);

    /// <summary>Compiles one rule; problems go to <paramref name="errors"/> prefixed with <paramref name="where"/>.</summary>
    public static ParameterRule? Create(string where, string name, ParameterRuleDefinition? definition, List<string> errors)
    {
        var count = errors.Count;
        if (definition is null)
        {
            errors.Add($"{where}: the rule is null; give an object such as {{\"required\":true,\"type\":\"integer\"}}.");
            return null;
        }

        var type = ParameterType.String;
        if (definition.Type is { } typeName && !Types.TryGetValue(typeName, out type))
        {
            errors.Add($"{where}: unknown type '{PrintableText.Of(typeName)}'. Known: {TypeNames}.");
        }

        if (definition.MaxLength is < 1)
        {
            errors.Add($"{where}: maxLength must be at least 1.");
        }

        Regex? pattern = null;
        if (definition.Pattern is { } text)
        {
            if (text.Length > MaxPatternLength)
            {
                errors.Add($"{where}: pattern is longer than {MaxPatternLength} characters.");
            }
            else
            {
                try
                {
                    // The whole value must match: anchored here so "[0-9]+" means what it says. \z, not $: $ also
                    // matches before a final "\n", which would let "date%0A" through a pattern "(date|total)".
                    // ECMAScript: \d, \w and \s are ASCII ([0-9], [A-Za-z0-9_], [ \f\n\r\t\v]) as in JSON Schema
                    // patterns; .NET's own \d also matches Arabic-Indic or full-width digits, which an upstream's
                    // integer parser refuses or reads otherwise. The timeout still bounds a pattern that backtracks badly.
                    pattern = new Regex("^(?:" + text + ")\\z", RegexOptions.CultureInvariant | RegexOptions.ECMAScript, PatternTimeout);
                }
                catch (ArgumentException ex)
                {
                    errors.Add($"{where}: pattern is not a valid .NET regular expression: {ex.Message}");
                }
            }
        }

        return errors.Count == count ? new ParameterRule(name, definition.Required ?? false, type, pattern, definition.MaxLength) : null;
    }

    /// <summary>Why <paramref name="value"/> breaks the rule (rule name and message), or null when it keeps it.</summary>
    public (string Rule, string Message)? Check(string value)
    {
        if (MaxLength is { } max && value.Length > max)
        {
            return ("maxLength", $"The value is longer than {max} characters.");
        }

        if (!HasType(value))
        {
            return ("type", $"The value is not a valid {TypeName}.");
        }

        if (_pattern is not null)
        {
            try
            {
                // Case-insensitive matching ((?i)) pairs 'k' with U+212A KELVIN SIGN even with ECMAScript classes, so
                // "(?i)[a-z]+" took a non-ASCII letter that an upstream folds to 'k' or refuses. A value holding one must
                // also match with it replaced by U+2102 (an uppercase letter without case pairs): letter classes such as
                // \p{Lu} and '.' still take it, a class that only took it as a 'k' does not.
                if (!_pattern.IsMatch(value)
                    || (value.Contains(KelvinSign) && !_pattern.IsMatch(value.Replace(KelvinSign, CaselessLetter))))
                {
                    return ("pattern", "The value does not match the required pattern.");
                }
            }
            catch (RegexMatchTimeoutException)
            {
                return ("pattern", "The value could not be checked against the pattern in time.");
            }
        }

        return null;
    }

    private const char KelvinSign = '\u212A';
    private const char CaselessLetter = '\u2102';

    private string TypeName => Types.First(t => t.Value == Type).Key;

    // .NET's number parsing stops at trailing NULs ("1\0" parses as 1); the upstream would get the NUL too.
    private bool HasType(string value) => Type switch
    {
        not ParameterType.String when value.Contains('\0') => false,
        ParameterType.Integer => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
        ParameterType.Number => double.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d),
        ParameterType.Boolean => value is "true" or "false",
        ParameterType.Uuid => value.Length == 36 && Guid.TryParseExact(value, "D", out _),
        ParameterType.Date => DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        ParameterType.DateTime => IsRfc3339(value),
        _ => true,
    };

    private static readonly Regex Rfc3339 = new(
        @"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    private static bool IsRfc3339(string value) =>
        Rfc3339.IsMatch(value) && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
}
