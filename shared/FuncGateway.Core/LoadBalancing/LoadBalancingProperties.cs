using FuncGateway.Model;

namespace FuncGateway.LoadBalancing;

/// <summary>The pool property load balancing owns (the policy name itself, <c>LoadBalancing</c>, is a core property).</summary>
public static class LoadBalancingProperties
{
    /// <summary>What <c>ConsistentHash</c> hashes: <c>ClientIp</c> (default), <c>Header:Name</c> or <c>Claim:type</c>.</summary>
    public static RegistryProperty<string?> HashKey { get; } = new(
        RegistryTable.Upstreams,
        "HashKey",
        null,
        static (RegistryEntityReader reader, string name, out string? value) =>
        {
            value = ValidateHashKey(reader.OptionalString(name), reader.PeekString("LoadBalancing"), reader.Errors);
            return value is not null;
        },
        static value => string.IsNullOrEmpty(value) ? null : value,
        static value => value is null);

    /// <summary>Every load-balancing property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [HashKey];

    /// <summary>Checks a pool's <c>HashKey</c> and that the pool's policy uses it.</summary>
    internal static string? ValidateHashKey(string? hashKey, string? policy, List<string> errors)
    {
        if (hashKey is null)
        {
            return null;
        }

        if (!HashKeySelector.TryParse(hashKey, out _, out var error))
        {
            errors.Add(error);
            return null;
        }

        if (!string.Equals(policy, LoadBalancingPolicies.ConsistentHash, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"HashKey is only used by LoadBalancing {LoadBalancingPolicies.ConsistentHash}; this pool uses {PrintableText.Of(policy ?? LoadBalancingPolicies.RoundRobin)}.");
            return null;
        }

        return hashKey;
    }
}
