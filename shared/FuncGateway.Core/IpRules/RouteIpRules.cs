using System.Net;
using FuncGateway.Model;

namespace FuncGateway.IpRules;

/// <summary>
/// A route's IP rules, compiled with its snapshot. Addresses are compared in their normal form (an IPv4-mapped IPv6
/// address is its IPv4 address), a deny entry wins over an allow entry, and an allow list refuses every address it
/// does not hold, including an unknown one.
/// </summary>
internal sealed class RouteIpRules
{
    private readonly IPNetwork[] _allow;
    private readonly IPNetwork[] _deny;

    public RouteIpRules(IPNetwork[] allow, IPNetwork[] deny)
    {
        _allow = allow;
        _deny = deny;
    }

    /// <summary>Why <paramref name="client"/> may not use the route, or null when it may.</summary>
    public string? Refusal(IPAddress? client)
    {
        if (client is null)
        {
            return _allow.Length > 0 ? "the client address is unknown and the route has an allow list" : null;
        }

        client = IpRanges.Normalize(client);
        if (IpRanges.AnyContains(_deny, client))
        {
            return "the address is in DenyIps";
        }

        return _allow.Length > 0 && !IpRanges.AnyContains(_allow, client) ? "the address is not in AllowIps" : null;
    }
}

/// <summary>Compiles a route's <c>AllowIps</c> and <c>DenyIps</c> (already checked when the row was read) into <see cref="RouteIpRules"/>.</summary>
internal sealed class RouteIpRulesCompiler : IRouteFeatureCompiler
{
    public object? Compile(RouteDefinition route, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(errors);
        var allow = route.Get(IpRulesProperties.AllowIps);
        var deny = route.Get(IpRulesProperties.DenyIps);
        if (allow.Count == 0 && deny.Count == 0)
        {
            return null;
        }

        return new RouteIpRules(IpRuleFormat.Parse(IpRulesProperties.AllowIps.Name, allow, errors), IpRuleFormat.Parse(IpRulesProperties.DenyIps.Name, deny, errors));
    }
}
