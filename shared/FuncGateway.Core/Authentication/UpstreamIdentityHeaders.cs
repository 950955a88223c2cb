using FuncGateway.Backend;

namespace FuncGateway.Authentication;

/// <summary>The identity headers the gateway itself sets (see <see cref="GatewayHeaders"/> for the contract).</summary>
internal static class UpstreamIdentityHeaders
{
    private static readonly string[] Standard =
    [
        GatewayHeaders.AuthPolicy, GatewayHeaders.UserId, GatewayHeaders.UserEmail, GatewayHeaders.UserRoles, GatewayHeaders.UserScopes,
        GatewayHeaders.ConsumerId, GatewayHeaders.ConsumerTier, GatewayHeaders.ConsumerKeyId,
        GatewayHeaders.Timestamp, GatewayHeaders.KeyId, GatewayHeaders.Signature,
    ];

    /// <summary>True for a header the gateway sets itself, so a claim mapping may not claim it.</summary>
    public static bool IsStandard(string name) => Standard.Contains(name, StringComparer.OrdinalIgnoreCase);
}
