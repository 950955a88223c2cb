using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncGateway.Model;

/// <summary>
/// The one check that a configuration section holds only settings something reads, so that a typo stops start-up
/// instead of being silently ignored. Keys compare case-insensitively, as .NET configuration does.
/// </summary>
internal static class ConfigurationKeys
{
    /// <summary>The children of <paramref name="section"/> whose key is none of <paramref name="known"/>.</summary>
    public static IEnumerable<IConfigurationSection> Unknown(IConfiguration section, IReadOnlyCollection<string> known)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(known);
        foreach (var child in section.GetChildren())
        {
            if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                yield return child;
            }
        }
    }

    /// <summary>
    /// Walks <paramref name="section"/> (whose full key is <paramref name="path"/>) against what the configuration
    /// binder binds into <paramref name="type"/>: its public settable properties (and get-only ones holding an object
    /// or a collection), recursively; dictionary keys and list indexes are free. Sections that another reader owns
    /// (<paramref name="ownedElsewhere"/>, full keys) are skipped. Each unknown key adds one error naming its full key.
    /// </summary>
    public static void RejectUnknown(IConfiguration section, string path, Type type, List<string> errors, IReadOnlyCollection<string>? ownedElsewhere = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(errors);
        Walk(section, path, type, errors, ownedElsewhere ?? []);
    }

    /// <summary>The message for an unknown key: the closest known key when one is a likely typo, otherwise every known key.</summary>
    public static string UnknownSetting(string path, string key, IReadOnlyCollection<string> known) =>
        Closest(key, known) is { } match
            ? $"{path}:{key} is not a known setting; did you mean {match}?"
            : $"{path}:{key} is not a known setting. Known: {string.Join(", ", known)}.";

    private static void Walk(IConfiguration section, string path, Type type, List<string> errors, IReadOnlyCollection<string> owned)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsValue(type))
        {
            // The binder reads a value here and ignores anything below it.
            foreach (var child in section.GetChildren())
            {
                errors.Add($"{path}:{child.Key} is not a known setting: {path} takes a single value.");
            }

            return;
        }

        if (ElementType(type) is { } element)
        {
            foreach (var child in section.GetChildren())
            {
                Walk(child, path + ":" + child.Key, element, errors, owned);
            }

            return;
        }

        var properties = BoundProperties(type);
        List<string>? known = null;
        foreach (var child in section.GetChildren())
        {
            var childPath = path + ":" + child.Key;
            if (owned.Contains(childPath, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            if (properties.TryGetValue(child.Key, out var propertyType))
            {
                Walk(child, childPath, propertyType, errors, owned);
                continue;
            }

            if (OwnedChildren(childPath, owned).Any())
            {
                WalkOwnedOnly(child, childPath, errors, owned);
                continue;
            }

            known ??= [.. properties.Keys, .. OwnedChildren(path, owned).Distinct(StringComparer.OrdinalIgnoreCase)];
            errors.Add(UnknownSetting(path, child.Key, known));
        }
    }

    /// <summary>
    /// A section no options type binds that only holds sections other readers own (<c>FuncGateway:Discovery</c>
    /// holding <c>Consul</c> and <c>Kubernetes</c>): each child must be one of them, or lead to one.
    /// </summary>
    private static void WalkOwnedOnly(IConfiguration section, string path, List<string> errors, IReadOnlyCollection<string> owned)
    {
        string[]? known = null;
        foreach (var child in section.GetChildren())
        {
            var childPath = path + ":" + child.Key;
            if (owned.Contains(childPath, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            if (OwnedChildren(childPath, owned).Any())
            {
                WalkOwnedOnly(child, childPath, errors, owned);
                continue;
            }

            known ??= [.. OwnedChildren(path, owned).Distinct(StringComparer.OrdinalIgnoreCase)];
            errors.Add(UnknownSetting(path, child.Key, known));
        }
    }

    /// <summary>Keys the binder fills in <paramref name="type"/>, in declaration order, with their types.</summary>
    private static OrderedDictionary<string, Type> BoundProperties(Type type)
    {
        var properties = new OrderedDictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is not { IsPublic: true })
            {
                continue;
            }

            // A get-only property is bound into when it holds an object or a collection; a get-only value is never set.
            if (property.SetMethod is { IsPublic: true } || !IsValue(Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType))
            {
                properties.TryAdd(property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name, property.PropertyType);
            }
        }

        return properties;
    }

    /// <summary>The next key below <paramref name="path"/> of every owned section under it.</summary>
    private static IEnumerable<string> OwnedChildren(string path, IReadOnlyCollection<string> owned)
    {
        var prefix = path + ":";
        foreach (var section in owned)
        {
            if (section.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && section.Length > prefix.Length)
            {
                var rest = section[prefix.Length..];
                var end = rest.IndexOf(':', StringComparison.Ordinal);
                yield return end < 0 ? rest : rest[..end];
            }
        }
    }

    /// <summary>A type the binder converts from one string (numbers, enums, strings, URIs, time spans...).</summary>
    private static bool IsValue(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(object)
        || TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    /// <summary>The value type of a dictionary or the element type of an array or list; null for an object with settings.</summary>
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        Type[] candidates = type.IsInterface ? [type, .. type.GetInterfaces()] : type.GetInterfaces();
        foreach (var candidate in candidates)
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() is var definition
                && (definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>)))
            {
                return candidate.GetGenericArguments()[1];
            }
        }

        foreach (var candidate in candidates)
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            {
                return candidate.GetGenericArguments()[0];
            }
        }

        return null;
    }

    /// <summary>
    /// The known key a typo most likely meant: one at most a third of its letters (1 to 3) apart, or one it begins
    /// (<c>ProbeTick</c> for <c>ProbeTickSeconds</c>).
    /// </summary>
    private static string? Closest(string key, IReadOnlyCollection<string> known)
    {
        var allowed = Math.Clamp(key.Length / 3, 1, 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = Distance(key, candidate);
            var likely = distance <= allowed || (key.Length >= 4 && candidate.StartsWith(key, StringComparison.OrdinalIgnoreCase));
            if (likely && distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        return best;
    }

    /// <summary>Levenshtein distance, ignoring case.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var same = char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 1]);
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (same ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}

/// <summary>
/// A configuration section its capability reads itself (a hand-written reader, or its own strictly bound options):
/// the unknown-key check of the section that contains it skips it. Registered once per section.
/// </summary>
/// <param name="Path">The section's full key, e.g. <c>FuncGateway:Auth</c>.</param>
internal sealed record OwnedConfigurationSection(string Path);

/// <summary>Fails start-up when the section <typeparamref name="TOptions"/> is bound from holds a key the binder would ignore.</summary>
internal sealed class KnownSettingsValidator<TOptions>(IConfigurationSection section, IEnumerable<OwnedConfigurationSection> owned) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        if (name is not null && name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>();
        var elsewhere = owned.Select(static o => o.Path).Where(p => !string.Equals(p, section.Path, StringComparison.OrdinalIgnoreCase)).ToArray();
        ConfigurationKeys.RejectUnknown(section, section.Path, typeof(TOptions), errors, elsewhere);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Binding that rejects unknown keys.</summary>
internal static class KnownSettingsOptionsBuilderExtensions
{
    /// <summary>
    /// Binds <paramref name="section"/> to the options and fails start-up (with <c>ValidateOnStart</c>) on any key in it
    /// that no property takes, naming its full key. The section is registered as owned, so the check of a section that
    /// contains it skips it.
    /// </summary>
    public static OptionsBuilder<TOptions> BindKnownSettings<TOptions>(this OptionsBuilder<TOptions> builder, IConfigurationSection section)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        builder.Bind(section);
        builder.Services.AddSingleton(new OwnedConfigurationSection(section.Path));
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(sp => new KnownSettingsValidator<TOptions>(section, sp.GetServices<OwnedConfigurationSection>()));
        return builder;
    }
}
