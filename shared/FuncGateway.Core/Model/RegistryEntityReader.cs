using System.Globalization;
using System.Text.Json;

namespace FuncGateway.Model;

/// <summary>
/// Typed access to the properties of one registry entity that records precise errors instead of throwing. Both the
/// core's route and upstream properties and every capability's <see cref="RegistryProperty"/> read through it, so an
/// operator gets the same message for the same mistake whichever property it is in.
/// </summary>
public sealed class RegistryEntityReader
{
    /// <summary>Azure Table Storage's limit on one string property: 64 KiB of UTF-16.</summary>
    public const int MaxStringPropertyChars = 32 * 1024;

    private readonly List<string> _errors;

    /// <summary>Reads <paramref name="row"/>, adding every problem to <paramref name="errors"/>.</summary>
    public RegistryEntityReader(RegistryRow row, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(errors);
        Row = row;
        _errors = errors;
    }

    /// <summary>The entity being read.</summary>
    public RegistryRow Row { get; }

    /// <summary>Checks PartitionKey and RowKey against Table Storage's key rules.</summary>
    public void CheckKeys()
    {
        CheckKey("PartitionKey", Row.PartitionKey, allowEmpty: true);
        CheckKey("RowKey", Row.RowKey, allowEmpty: false);
    }

    private void CheckKey(string name, string value, bool allowEmpty)
    {
        if (value.Length == 0)
        {
            if (!allowEmpty)
            {
                _errors.Add($"{name} is empty.");
            }

            return;
        }

        if (value.Length > 256)
        {
            _errors.Add($"{name} is longer than 256 characters.");
        }

        foreach (var c in value)
        {
            if (c is '/' or '\\' or '#' or '?' || char.IsControl(c))
            {
                _errors.Add($"{name} '{PrintableText.Of(value)}' contains '{PrintableText.Of(c.ToString())}'; keys may not contain '/', '\\', '#', '?' or control characters.");
                return;
            }
        }
    }

    /// <summary>Every property not in <paramref name="known"/> is an error (names are case-sensitive).</summary>
    public void RejectUnknown(IReadOnlySet<string> known)
    {
        ArgumentNullException.ThrowIfNull(known);
        foreach (var name in Row.Properties.Keys)
        {
            if (!known.Contains(name))
            {
                var suggestion = known.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
                _errors.Add(suggestion is null
                    ? $"Unknown property '{name}'. Known properties: {string.Join(", ", known.Order(StringComparer.Ordinal))}."
                    : $"Unknown property '{name}'; property names are case-sensitive: did you mean '{suggestion}'?");
            }
        }
    }

    /// <summary>True when the entity has the property (whatever its value).</summary>
    public bool Has(string name) => Row.Properties.ContainsKey(name);

    /// <summary>True when an error mentioning <paramref name="name"/> first has been recorded.</summary>
    public bool HasErrorFor(string name) => _errors.Exists(e => e.StartsWith(name, StringComparison.Ordinal));

    /// <summary>The error list, for checks that go beyond one property's type.</summary>
    public List<string> Errors => _errors;

    private object? Get(string name) => Row.Properties.TryGetValue(name, out var value) ? value : null;

    /// <summary>A trimmed string value that must be present and non-empty.</summary>
    public string? RequiredString(string name)
    {
        var value = OptionalString(name);
        if (value is null && !Row.Properties.ContainsKey(name))
        {
            _errors.Add($"{name} is required.");
        }
        else if (value is null && Get(name) is null or string { Length: <= MaxStringPropertyChars })
        {
            // A value of another type, or too long, has its own reason already (OptionalString): it is not empty.
            _errors.Add($"{name} is required and may not be empty.");
        }

        return value;
    }

    /// <summary>A trimmed string value; null when absent or blank.</summary>
    public string? OptionalString(string name)
    {
        switch (Get(name))
        {
            case null:
                return null;
            case string s when s.Length > MaxStringPropertyChars:
                _errors.Add($"{name} is longer than {MaxStringPropertyChars} characters (Table Storage's 64 KiB limit).");
                return null;
            case string s:
                s = s.Trim();
                return s.Length == 0 ? null : s;
            case var other:
                _errors.Add($"{name} must be a string, not {TypeName(other)}.");
                return null;
        }
    }

    /// <summary>A string value read without recording errors (for a check that depends on another property).</summary>
    public string? PeekString(string name) => Get(name) is string s && s.Trim() is { Length: > 0 } trimmed ? trimmed : null;

    /// <summary>A list given as a comma-separated string or as a JSON array of strings.</summary>
    public List<string> List(string name)
    {
        var text = OptionalString(name);
        if (text is null)
        {
            return [];
        }

        string[] items;
        if (text.StartsWith('['))
        {
            try
            {
                items = JsonSerializer.Deserialize<string[]>(text, RegistryJson.Options) ?? [];
            }
            catch (JsonException ex)
            {
                _errors.Add($"{name} is not a valid JSON array of strings: {JsonMessage(ex)}");
                return [];
            }
        }
        else
        {
            items = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }

        var result = new List<string>(items.Length);
        foreach (var item in items)
        {
            if (string.IsNullOrWhiteSpace(item))
            {
                _errors.Add($"{name} contains an empty item.");
                continue;
            }

            result.Add(item.Trim());
        }

        return result;
    }

    /// <summary>A 32-bit integer (Int32, a small Int64, or a numeric string).</summary>
    public int? WholeNumber(string name)
    {
        switch (Get(name))
        {
            case null:
                return null;
            case int i:
                return i;
            case long l when l is >= int.MinValue and <= int.MaxValue:
                return (int)l;
            case string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed):
                return parsed;
            case var other:
                _errors.Add($"{name} must be a 32-bit integer, not {TypeName(other)} '{PrintableText.Of(Convert.ToString(other, CultureInfo.InvariantCulture) ?? "")}'.");
                return null;
        }
    }

    /// <summary>A finite number (Double, Int32, Int64 or a numeric string).</summary>
    public double? Number(string name)
    {
        double? value = Get(name) switch
        {
            null => null,
            double d => d,
            int i => i,
            long l => l,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => double.NaN,
        };
        if (value is double v && (double.IsNaN(v) || double.IsInfinity(v)))
        {
            _errors.Add($"{name} must be a number, not {TypeName(Get(name))} '{PrintableText.Of(Convert.ToString(Get(name), CultureInfo.InvariantCulture) ?? "")}'.");
            return null;
        }

        return value;
    }

    /// <summary>A Boolean, or the strings <c>true</c>/<c>false</c> (what <c>az storage entity</c> stores).</summary>
    public bool? Boolean(string name)
    {
        switch (Get(name))
        {
            case null:
                return null;
            case bool b:
                return b;
            case string s when bool.TryParse(s, out var parsed):
                return parsed;
            case var other:
                _errors.Add($"{name} must be a boolean (true or false), not {TypeName(other)} '{PrintableText.Of(Convert.ToString(other, CultureInfo.InvariantCulture) ?? "")}'.");
                return null;
        }
    }

    /// <summary>A value's Table Storage type as an operator knows it (<c>an Int32</c>, <c>a Boolean</c>), for "must be …, not …" reasons.</summary>
    internal static string TypeName(object? value) => value switch
    {
        null => "null",
        string => "a string",
        int => "an Int32",
        long => "an Int64",
        double => "a Double",
        bool => "a Boolean",
        DateTimeOffset or DateTime => "a DateTime",
        Guid => "a Guid",
        byte[] => "Binary",
        _ => value.GetType().Name,
    };

    /// <summary>A JSON error as an operator can act on it: the position, no .NET type names.</summary>
    public static string JsonMessage(JsonException ex) =>
        RegistryJson.Message(ex, "FuncGateway.Routing.", "FuncGateway.Configuration.", "FuncGateway.Model.");
}
