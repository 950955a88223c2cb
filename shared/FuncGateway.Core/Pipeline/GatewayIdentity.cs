using System.Security.Claims;

namespace FuncGateway.Pipeline;

/// <summary>An authenticated caller, as the authentication step established it.</summary>
/// <param name="Policy">The authentication policy that accepted the caller.</param>
/// <param name="UserId">The user (e.g. a token's <c>sub</c>), when there is one.</param>
/// <param name="ConsumerId">The API consumer (e.g. an API key's owner), when there is one.</param>
/// <param name="Tier">The consumer's tier, for tiered limits.</param>
/// <param name="Principal">All claims.</param>
public sealed record GatewayIdentity(string Policy, string? UserId, string? ConsumerId, string? Tier, ClaimsPrincipal Principal);
