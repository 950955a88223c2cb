using FuncGateway.Model;
using Microsoft.Extensions.Options;

namespace FuncGateway.Versioning;

/// <summary>The configured version sets, compiled once at start-up and looked up by name (case-insensitively).</summary>
internal sealed class ApiVersionSets(IOptions<VersioningSettings> options)
{
    private readonly NamedPolicies<ApiVersionSet> _sets = NamedPolicies<ApiVersionSet>.Compile(options.Value.Sets, ApiVersionSetCompiler.Compile);

    /// <summary>The configured names, sorted, for error messages.</summary>
    public IReadOnlyList<string> Names => _sets.Names;

    public bool TryGet(string name, out ApiVersionSet set) => _sets.TryGet(name, out set);
}

/// <summary>Fails start-up on any invalid version set, listing every problem under its full key.</summary>
internal sealed class VersioningSettingsValidator : IValidateOptions<VersioningSettings>
{
    public ValidateOptionsResult Validate(string? name, VersioningSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return NamedPolicies<ApiVersionSet>.Validate(options.Sets, ApiVersionSetCompiler.Compile);
    }
}
