using System.Security.Claims;

namespace FuncGateway.Model;

/// <summary>
/// An authenticated caller, as the policy that accepted it established it: what authorization checks, what rate
/// limits partition by, and the source of the identity headers sent upstream.
/// </summary>
/// <param name="Policy">The authentication policy that accepted the caller.</param>
/// <param name="UserId">The user (e.g. a token's <c>sub</c>), when there is one.</param>
/// <param name="ConsumerId">The API consumer (e.g. an API key's owner), when there is one.</param>
/// <param name="Tier">The consumer's tier, for tiered limits.</param>
/// <param name="Principal">All claims.</param>
public sealed record GatewayIdentity(string Policy, string? UserId, string? ConsumerId, string? Tier, ClaimsPrincipal Principal)
{
    /// <summary>The user's e-mail address, when the credential carries one.</summary>
    public string? Email { get; init; }

    /// <summary>The caller's roles.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The caller's scopes.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>The id of the API key the caller presented, when it was one.</summary>
    public string? KeyId { get; init; }

    /// <summary>Mapped claims: header name → values.</summary>
    public IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> ExtraHeaders { get; init; } = [];

    /// <summary>Send the bearer token on to the upstream (per policy).</summary>
    public bool ForwardToken { get; init; }

    /// <summary>
    /// When the upstream receives the credential itself (<see cref="ForwardToken"/>): its SHA-256 in hexadecimal, never
    /// the credential. The upstream may answer on anything in it, so a per-caller cache keys it.
    /// </summary>
    public string? ForwardedCredentialDigest { get; init; }
}
