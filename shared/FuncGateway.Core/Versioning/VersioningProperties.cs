using FuncGateway.Model;

namespace FuncGateway.Versioning;

/// <summary>The route properties API versioning owns.</summary>
public static class VersioningProperties
{
    /// <summary>
    /// The name of the version set (<c>FuncGateway:Versioning:Sets</c>) the route is one version of. Requires
    /// <see cref="ApiVersion"/>. Absent: the route is not versioned.
    /// </summary>
    public static RegistryProperty<string?> VersionSet { get; } = RegistryProperties.Text(RegistryTable.Routes, "VersionSet", CheckSetName);

    /// <summary>The version of the set the route serves: one of the set's <c>Versions</c>. Requires <see cref="VersionSet"/>.</summary>
    public static RegistryProperty<string?> ApiVersion { get; } = RegistryProperties.Text(RegistryTable.Routes, "ApiVersion", CheckVersion);

    /// <summary>Every versioning property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [VersionSet, ApiVersion];

    private static string? CheckSetName(string value, List<string> errors)
    {
        if (ConfigurationNames.IsValid(value))
        {
            return value;
        }

        errors.Add($"VersionSet '{PrintableText.Of(value)}' is not a valid set name: {ConfigurationNames.Rule}.");
        return null;
    }

    private static string? CheckVersion(string value, List<string> errors)
    {
        if (ApiVersionSyntax.IsValid(value))
        {
            return value;
        }

        errors.Add($"ApiVersion '{PrintableText.Of(value)}' is not a valid version: {ApiVersionSyntax.Rule}.");
        return null;
    }
}

/// <summary>What a version identifier may be.</summary>
internal static class ApiVersionSyntax
{
    public const int MaxLength = 32;

    public const string Rule = "1-32 letters, digits, '.', '-' and '_' (e.g. 2, 2.1, 2024-06-01)";

    public static bool IsValid(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
