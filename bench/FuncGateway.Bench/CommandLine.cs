using System.Globalization;

namespace FuncGateway.Bench;

/// <summary>A usage error: printed without a stack trace, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// <c>--name value</c> pairs. The callers are bench/run.sh and people reading it, so a tiny parser that names the
/// bad option beats a dependency.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static CommandLine Parse(ReadOnlySpan<string> args)
    {
        var result = new CommandLine();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new UsageException($"Expected '--name value', got '{name}'.");
            }

            result._values[name[2..]] = args[++i];
        }

        return result;
    }

    public string Required(string name) =>
        _values.TryGetValue(name, out var value) && value.Length > 0 ? value : throw new UsageException($"--{name} is required.");

    public string? Optional(string name) => _values.GetValueOrDefault(name);

    public int Int(string name, int defaultValue, int min, int max)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new UsageException($"--{name} must be an integer in [{min}, {max}], got '{text}'.");
    }

    public double Double(string name, double defaultValue, double min, double max)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new UsageException($"--{name} must be a number in [{min}, {max}], got '{text}'.");
    }

    public Uri AbsoluteHttpUri(string name)
    {
        var text = Required(name);
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp
            ? uri
            : throw new UsageException($"--{name} must be an absolute http:// URL, got '{text}'.");
    }
}
