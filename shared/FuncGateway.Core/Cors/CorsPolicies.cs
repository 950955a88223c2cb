using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace FuncGateway.Cors;

/// <summary>The configured CORS policies, compiled once at start-up and looked up by name (case-insensitively).</summary>
internal sealed class CorsPolicies
{
    private readonly FrozenDictionary<string, GatewayCorsPolicy> _policies;

    public CorsPolicies(IOptions<CorsSettings> options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Start-up validation (CorsSettingsValidator) has reported every problem already; a policy that still fails is
        // left out, so a route naming it is rejected rather than served with a half-built policy.
        var errors = new List<string>();
        var policies = new Dictionary<string, GatewayCorsPolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, settings) in options.Value.Policies)
        {
            if (CorsPolicyCompiler.Compile(name, settings, errors) is { } policy)
            {
                policies[name] = policy;
            }
        }

        _policies = policies.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        Names = [.. _policies.Keys.Order(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The configured names, sorted, for error messages.</summary>
    public IReadOnlyList<string> Names { get; }

    public bool TryGet(string name, out GatewayCorsPolicy policy) => _policies.TryGetValue(name, out policy!);
}

/// <summary>Fails start-up on any unsafe or malformed policy, listing every problem under its full key.</summary>
internal sealed class CorsSettingsValidator : IValidateOptions<CorsSettings>
{
    public ValidateOptionsResult Validate(string? name, CorsSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        foreach (var (policyName, settings) in options.Policies)
        {
            CorsPolicyCompiler.Compile(policyName, settings, errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
