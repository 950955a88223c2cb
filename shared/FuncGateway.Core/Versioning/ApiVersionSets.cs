using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace FuncGateway.Versioning;

/// <summary>The configured version sets, compiled once at start-up and looked up by name (case-insensitively).</summary>
internal sealed class ApiVersionSets
{
    private readonly FrozenDictionary<string, ApiVersionSet> _sets;

    public ApiVersionSets(IOptions<VersioningSettings> options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Start-up validation (VersioningSettingsValidator) has reported every problem already; a set that still fails
        // is left out, so a route naming it is rejected rather than served by a half-built set.
        var sets = new Dictionary<string, ApiVersionSet>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, settings) in options.Value.Sets)
        {
            if (ApiVersionSetCompiler.Compile(name, settings, []) is { } set)
            {
                sets[name] = set;
            }
        }

        _sets = sets.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        Names = [.. _sets.Keys.Order(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The configured names, sorted, for error messages.</summary>
    public IReadOnlyList<string> Names { get; }

    public bool TryGet(string name, out ApiVersionSet set) => _sets.TryGetValue(name, out set!);
}

/// <summary>Fails start-up on any invalid version set, listing every problem under its full key.</summary>
internal sealed class VersioningSettingsValidator : IValidateOptions<VersioningSettings>
{
    public ValidateOptionsResult Validate(string? name, VersioningSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        foreach (var (setName, settings) in options.Sets)
        {
            ApiVersionSetCompiler.Compile(setName, settings, errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
