using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace FuncGateway.Model;

/// <summary>
/// Policies a capability defines by name in configuration (CORS policies, API version sets), each compiled once at
/// start-up by the capability's compiler and looked up by name, case-insensitively. Start-up validation
/// (<see cref="Validate{TSettings}"/>) has reported every problem already; a policy that still fails to compile is left
/// out, so a route naming it is rejected rather than served with a half-built policy.
/// </summary>
internal sealed class NamedPolicies<TPolicy>
    where TPolicy : class
{
    private readonly FrozenDictionary<string, TPolicy> _policies;

    private NamedPolicies(FrozenDictionary<string, TPolicy> policies)
    {
        _policies = policies;
        Names = [.. policies.Keys.Order(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The configured names, sorted, for error messages.</summary>
    public IReadOnlyList<string> Names { get; }

    public static NamedPolicies<TPolicy> Compile<TSettings>(IEnumerable<KeyValuePair<string, TSettings>> settings, Func<string, TSettings, List<string>, TPolicy?> compile)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(compile);
        var policies = new Dictionary<string, TPolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in settings)
        {
            if (compile(name, value, []) is { } policy)
            {
                policies[name] = policy;
            }
        }

        return new NamedPolicies<TPolicy>(policies.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Compiles every policy and fails with every problem, each under its full key.</summary>
    public static ValidateOptionsResult Validate<TSettings>(IEnumerable<KeyValuePair<string, TSettings>> settings, Func<string, TSettings, List<string>, TPolicy?> compile)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(compile);
        var errors = new List<string>();
        foreach (var (name, value) in settings)
        {
            compile(name, value, errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public bool TryGet(string name, out TPolicy policy) => _policies.TryGetValue(name, out policy!);
}
