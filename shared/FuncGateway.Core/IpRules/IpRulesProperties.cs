using FuncGateway.Model;

namespace FuncGateway.IpRules;

/// <summary>The route properties the IP rules own: which client addresses may use the route.</summary>
public static class IpRulesProperties
{
    /// <summary>
    /// Addresses and CIDR ranges (IPv4 and IPv6) that may use the route; every other client is refused. Empty: any
    /// client that <see cref="DenyIps"/> does not refuse.
    /// </summary>
    public static RegistryProperty<IReadOnlyList<string>> AllowIps { get; } =
        RegistryProperties.Names(RegistryTable.Routes, "AllowIps", static (entries, errors) => IpRuleFormat.Check("AllowIps", entries, errors));

    /// <summary>Addresses and CIDR ranges (IPv4 and IPv6) that may not use the route, even when <see cref="AllowIps"/> lists them.</summary>
    public static RegistryProperty<IReadOnlyList<string>> DenyIps { get; } =
        RegistryProperties.Names(RegistryTable.Routes, "DenyIps", static (entries, errors) => IpRuleFormat.Check("DenyIps", entries, errors));

    /// <summary>Every IP-rule property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [AllowIps, DenyIps];
}
