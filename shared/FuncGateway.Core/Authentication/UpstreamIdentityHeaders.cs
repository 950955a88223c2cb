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

    /// <summary>
    /// True for a header the gateway sets itself, or a look-alike of one (<c>X-UserId</c>, <c>X-User--ID</c>: the same
    /// letters and digits), so a claim mapping may not claim it: a backend that normalises names would read the mapped
    /// claim as the gateway's own header, as the stripping of clients' headers already assumes.
    /// </summary>
    public static bool IsStandard(string name)
    {
        var letters = LettersAndDigits(name);
        foreach (var standard in Standard)
        {
            if (letters.Equals(LettersAndDigits(standard), StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static string LettersAndDigits(string name) => string.Concat(name.Where(char.IsAsciiLetterOrDigit));
}
