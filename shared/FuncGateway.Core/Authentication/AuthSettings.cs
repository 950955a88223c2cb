using System.Collections.Frozen;
using FuncGateway.Authentication.Basic;

namespace FuncGateway.Authentication;

/// <summary>Everything under <c>FuncGateway:Auth</c>, read and checked once at start-up.</summary>
internal sealed class GatewayAuthSettings
{
    public FrozenDictionary<string, AuthPolicySettings> Policies { get; set; } = FrozenDictionary<string, AuthPolicySettings>.Empty;

    public ApiKeyStoreSettings ApiKeys { get; set; } = new();

    public SigningSettings Signing { get; set; } = new(null, FrozenDictionary<string, byte[]>.Empty);

    /// <summary>Every problem found while reading; the host refuses to start while there is any.</summary>
    public List<string> Errors { get; } = [];
}

/// <summary>One named policy.</summary>
internal abstract record AuthPolicySettings(string Name)
{
    public abstract AuthPolicyType Type { get; }
}

/// <summary>A JWT bearer policy: one issuer, its keys and what to take from its tokens.</summary>
internal sealed record JwtPolicySettings(string Name) : AuthPolicySettings(Name)
{
    public override AuthPolicyType Type => AuthPolicyType.Jwt;

    public string Issuer { get; init; } = "";

    public IReadOnlyList<string> Audiences { get; init; } = [];

    public string? MetadataAddress { get; init; }

    public string? JwksUri { get; init; }

    public string? Jwks { get; init; }

    public IReadOnlyDictionary<string, byte[]> SymmetricKeys { get; init; } = new Dictionary<string, byte[]>();

    public IReadOnlyList<string> Algorithms { get; init; } = [];

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Accepted <c>typ</c> header values, normalised to lower-case full media types (<c>application/at+jwt</c>);
    /// empty means <c>typ</c> is not checked.
    /// </summary>
    public IReadOnlyList<string> RequiredTypes { get; init; } = [];

    /// <summary>Longest lifetime accepted (<c>exp - iat</c>, and <c>exp - now</c> beyond the clock skew); null: no limit.</summary>
    public TimeSpan? MaxTokenLifetime { get; init; }

    public TimeSpan KeyRefreshInterval { get; init; } = TimeSpan.FromSeconds(300);

    public TimeSpan UnknownKeyRefreshInterval { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan MetadataTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest a validated token is remembered (never past its <c>exp</c> or a key set change); zero: no cache.</summary>
    public TimeSpan TokenCacheDuration { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Most validated tokens remembered at once.</summary>
    public int TokenCacheSize { get; init; } = 10_000;

    public bool RequireHttpsMetadata { get; init; } = true;

    public string UserIdClaim { get; init; } = "sub";

    public string EmailClaim { get; init; } = "email";

    public IReadOnlyList<string> RoleClaims { get; init; } = ["roles", "role"];

    public IReadOnlyList<string> ScopeClaims { get; init; } = ["scope", "scp"];

    public IReadOnlyList<string> ConsumerIdClaims { get; init; } = ["azp", "client_id"];

    public string? TierClaim { get; init; }

    /// <summary>Extra headers: header name → claim type.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ClaimHeaders { get; init; } = [];

    public bool ForwardToken { get; init; }
}

/// <summary>An API key policy: where the key is read from. The keys themselves are in the ApiKeys table.</summary>
internal sealed record ApiKeyPolicySettings(string Name) : AuthPolicySettings(Name)
{
    public override AuthPolicyType Type => AuthPolicyType.ApiKey;

    public string Header { get; init; } = "X-API-Key";
}

/// <summary>A Basic policy: users with PBKDF2 hashes, optional roles.</summary>
internal sealed record BasicPolicySettings(string Name) : AuthPolicySettings(Name)
{
    public override AuthPolicyType Type => AuthPolicyType.Basic;

    public string Realm { get; init; } = "FuncGateway";

    public IReadOnlyDictionary<string, PasswordHash> Users { get; init; } = new Dictionary<string, PasswordHash>();

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Roles { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    public TimeSpan CacheDuration { get; init; } = TimeSpan.FromSeconds(300);
}

/// <summary>The ApiKeys table lookup cache, shared by every API key policy.</summary>
internal sealed record ApiKeyStoreSettings
{
    public TimeSpan CacheDuration { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan NegativeCacheDuration { get; init; } = TimeSpan.FromSeconds(5);

    public int CacheSize { get; init; } = 10_000;

    public TimeSpan LookupTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan StaleIfError { get; init; } = TimeSpan.FromSeconds(300);
}

/// <summary>Keys for signing the user context; no keys, no signature.</summary>
internal sealed record SigningSettings(string? ActiveKeyId, FrozenDictionary<string, byte[]> Keys)
{
    public bool Enabled => ActiveKeyId is not null;
}
