using FuncGateway.Model;
using Microsoft.Extensions.Options;

namespace FuncGateway.Cors;

/// <summary>The configured CORS policies, compiled once at start-up and looked up by name (case-insensitively).</summary>
internal sealed class CorsPolicies(IOptions<CorsSettings> options)
{
    private readonly NamedPolicies<GatewayCorsPolicy> _policies = NamedPolicies<GatewayCorsPolicy>.Compile(options.Value.Policies, CorsPolicyCompiler.Compile);

    /// <summary>The configured names, sorted, for error messages.</summary>
    public IReadOnlyList<string> Names => _policies.Names;

    public bool TryGet(string name, out GatewayCorsPolicy policy) => _policies.TryGet(name, out policy);
}

/// <summary>Fails start-up on any unsafe or malformed policy, listing every problem under its full key.</summary>
internal sealed class CorsSettingsValidator : IValidateOptions<CorsSettings>
{
    public ValidateOptionsResult Validate(string? name, CorsSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return NamedPolicies<GatewayCorsPolicy>.Validate(options.Policies, CorsPolicyCompiler.Compile);
    }
}
