using System.Security.Claims;

namespace FuncGateway.Backend;

/// <summary>The caller as the gateway vouched for it, decoded from the signed headers.</summary>
public sealed class GatewayUserContext
{
    /// <summary>The authentication type of <see cref="ToPrincipal"/>'s identity for an authenticated caller.</summary>
    public const string AuthenticationType = "FuncGateway";

    /// <summary>The policy that accepted the caller, or <c>anonymous</c>.</summary>
    public required string Policy { get; init; }

    /// <summary>The user's id, when there is one.</summary>
    public string? UserId { get; init; }

    /// <summary>The user's e-mail address, when there is one.</summary>
    public string? Email { get; init; }

    /// <summary>The user's roles.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The granted scopes.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>The API consumer.</summary>
    public string? ConsumerId { get; init; }

    /// <summary>The consumer's tier.</summary>
    public string? Tier { get; init; }

    /// <summary>The id of the API key used.</summary>
    public string? KeyId { get; init; }

    /// <summary>Every signed header (lower-case name → decoded value), including the ones above and mapped claims.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>True unless the route was anonymous.</summary>
    public bool IsAuthenticated => !string.Equals(Policy, "anonymous", StringComparison.Ordinal);

    /// <summary>Reads the context from request headers (call only after the signature was verified).</summary>
    public static GatewayUserContext FromHeaders(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, values) in headers)
        {
            if (GatewayHeaders.IsSigned(name))
            {
                all[name.ToLowerInvariant()] = values.ToString();
            }
        }

        string? One(string name) => all.TryGetValue(name.ToLowerInvariant(), out var v) && v.Length > 0 ? GatewayHeaderValue.Decode(v) : null;
        return new GatewayUserContext
        {
            Policy = One(GatewayHeaders.AuthPolicy) ?? "anonymous",
            UserId = One(GatewayHeaders.UserId),
            Email = One(GatewayHeaders.UserEmail),
            Roles = GatewayHeaderValue.DecodeList(all.GetValueOrDefault(GatewayHeaders.UserRoles.ToLowerInvariant())),
            Scopes = GatewayHeaderValue.DecodeList(all.GetValueOrDefault(GatewayHeaders.UserScopes.ToLowerInvariant())),
            ConsumerId = One(GatewayHeaders.ConsumerId),
            Tier = One(GatewayHeaders.ConsumerTier),
            KeyId = One(GatewayHeaders.ConsumerKeyId),
            Headers = all.ToDictionary(p => p.Key, p => GatewayHeaderValue.Decode(p.Value), StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// A principal for <c>HttpContext.User</c>: claims <c>sub</c>, <c>email</c>, <c>role</c> (one per role, also the
    /// identity's role claim type), <c>scope</c> (one per scope), <c>consumer_id</c>, <c>tier</c>, <c>key_id</c>,
    /// <c>auth_policy</c>. Unauthenticated (no authentication type) for an anonymous route.
    /// </summary>
    public ClaimsPrincipal ToPrincipal()
    {
        var claims = new List<Claim> { new("auth_policy", Policy) };
        void Add(string type, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                claims.Add(new Claim(type, value));
            }
        }

        Add("sub", UserId);
        Add("email", Email);
        Add("consumer_id", ConsumerId);
        Add("tier", Tier);
        Add("key_id", KeyId);
        foreach (var role in Roles)
        {
            Add("role", role);
        }

        foreach (var scope in Scopes)
        {
            Add("scope", scope);
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, IsAuthenticated ? AuthenticationType : null, "sub", "role"));
    }
}
