namespace FuncGateway.IpRules;

/// <summary>Stable <c>code</c> values of the IP rules' problem responses.</summary>
public static class IpRulesProblems
{
    /// <summary>403: the client's address is in the route's <c>DenyIps</c>, or the route has <c>AllowIps</c> and the address is not in it.</summary>
    public const string Denied = "ip_denied";
}
