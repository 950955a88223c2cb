using FuncGateway.Model;
using System.Collections.Frozen;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FuncGateway.Authentication.Jwt;

/// <summary>
/// JWT bearer tokens of one issuer. The token's header never chooses how it is checked: its <c>alg</c> must be on the
/// policy's allowlist (so <c>none</c> in any spelling, or HS256 against an RSA issuer, is refused before any
/// cryptography), only keys of that algorithm's family are candidates (a symmetric key only ever comes from
/// configuration), and headers that carry or point to key material (<c>jwk</c>, <c>jku</c>, <c>x5u</c>, <c>x5c</c>) or
/// critical extensions (<c>crit</c>) reject the token. Before that, <see cref="JwsCompactFormat"/> reads the token
/// strictly (RFC 8725): canonical base64url, unique member names, numeric dates that are numbers, a string <c>kid</c>;
/// and <c>typ</c> must be one of <c>RequireTyp</c> when set. Then IdentityModel's <see cref="JsonWebTokenHandler"/>
/// checks signature, issuer, audience and lifetime (<c>exp</c> required, clock skew configurable, no <c>iat</c> in the
/// future, and at most <c>MaxTokenLifetimeSeconds</c> when set).
/// </summary>
internal sealed class JwtPolicy : IAuthPolicy
{
    /// <summary>Longest token accepted, in characters.</summary>
    internal const int MaxTokenLength = 16 * 1024;

    private static readonly string[] ForbiddenHeaders = ["jwk", "jku", "x5u", "x5c", "crit"];

    private readonly JwtPolicySettings _settings;
    private readonly SigningKeySource _keys;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false, MaximumTokenSizeInBytes = MaxTokenLength };
    private readonly TokenValidationParameters _parameters;
    private readonly FrozenSet<string> _algorithms;
    private readonly ValidatedTokenCache? _cache;

    public JwtPolicy(JwtPolicySettings settings, SigningKeySource keys, TimeProvider time, ILogger logger)
    {
        _settings = settings;
        _keys = keys;
        _time = time;
        _logger = logger;
        _cache = settings.TokenCacheDuration > TimeSpan.Zero ? new ValidatedTokenCache(settings.TokenCacheSize, settings.TokenCacheDuration) : null;
        _algorithms = settings.Algorithms.ToFrozenSet(StringComparer.Ordinal);
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidateIssuer = true,
            ValidAudiences = settings.Audiences,
            ValidateAudience = true,

            // IdentityModel's default takes "api://orders/" for "api://orders": another resource's audience. RFC 7519
            // compares aud as a plain string, and so does the gateway (as it compares iss).
            IgnoreTrailingSlashWhenValidatingAudience = false,
            ValidAlgorithms = settings.Algorithms,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = settings.ClockSkew,
            LifetimeValidator = ValidateLifetime,
            ValidateIssuerSigningKey = false,
            TryAllIssuerSigningKeys = true,
            ValidateTokenReplay = false,
            SaveSigninToken = false,
            NameClaimType = settings.UserIdClaim,
            RoleClaimType = "role",
            AuthenticationType = "Bearer",
        };
    }

    public string Name => _settings.Name;

    public AuthPolicyType Type => AuthPolicyType.Jwt;

    public CredentialLookup FindCredential(HttpRequest request, RouteAuth route)
    {
        var fromHeader = CredentialLookup.None;
        var authorization = request.Headers.Authorization;
        if (authorization.Count > 1)
        {
            return CredentialLookup.Bad("The request carries more than one Authorization header.");
        }

        if (authorization.Count == 1 && AuthorizationHeader.TryGetCredential(authorization[0], "Bearer", out var token))
        {
            if (token.Length == 0)
            {
                return CredentialLookup.Bad("The Bearer credential is empty.");
            }

            fromHeader = CredentialLookup.Found(CredentialSource.AuthorizationHeader, token);
        }

        if (route.TokenQueryParameter is { } parameter && request.Query.TryGetValue(parameter, out var values))
        {
            if (values.Count != 1 || string.IsNullOrEmpty(values[0]) || fromHeader.Source != CredentialSource.None)
            {
                return CredentialLookup.Bad("Send one bearer token, in the Authorization header or the query, not both.");
            }

            return CredentialLookup.Found(CredentialSource.Query, values[0]!);
        }

        return fromHeader;
    }

    /// <summary>Validated tokens remembered (tests).</summary>
    internal ValidatedTokenCache? Cache => _cache;

    /// <summary>The key refresh in progress, if any (tests).</summary>
    internal Task? PendingKeyRefresh => _keys.PendingRefresh;

    public async ValueTask<AuthAttempt> AuthenticateAsync(string credential, CancellationToken cancellationToken)
    {
        if (credential.Length > MaxTokenLength)
        {
            return Invalid("The token is too large.");
        }

        if (_cache is null)
        {
            return await ValidateAsync(credential, default, cancellationToken);
        }

        var hash = TokenHash.Of(credential);
        if (_cache.TryGet(hash, _time.GetUtcNow(), out var cached))
        {
            // Asking for the keys also starts the scheduled refresh, as a full validation would.
            var current = await _keys.GetAsync(cached.Kid, cached.Family, cancellationToken);
            if (ReferenceEquals(current, cached.Keys))
            {
                return cached.Attempt;
            }

            if (current is not null)
            {
                _cache.Invalidate(current);
            }
        }

        return await ValidateAsync(credential, hash, cancellationToken);
    }

    private async ValueTask<AuthAttempt> ValidateAsync(string credential, TokenHash hash, CancellationToken cancellationToken)
    {
        JsonWebToken token;
        try
        {
            token = new JsonWebToken(credential);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException or FormatException or System.Text.Json.JsonException)
        {
            return Invalid("The token is malformed.");
        }

        if (token.IsEncrypted)
        {
            return Invalid("Encrypted tokens are not accepted.");
        }

        var defect = JwsCompactFormat.Check(credential, readTyp: _settings.RequiredTypes.Count > 0, out var typ);
        if (defect != JwtDefect.None)
        {
            return Refused(defect, "The token is malformed.");
        }

        if (_settings.RequiredTypes.Count > 0 && !IsRequiredType(typ))
        {
            return Refused(JwtDefect.TypeNotAccepted, "The token is invalid.");
        }

        // The allowlist is compared ordinally: "none", "None", "NONE" and every other spelling are simply not on it.
        var algorithm = token.Alg;
        if (string.IsNullOrEmpty(algorithm) || !_algorithms.Contains(algorithm) || SigningKeySet.FamilyOf(algorithm) is not { } family)
        {
            return Invalid("The token's algorithm is not accepted.");
        }

        foreach (var header in ForbiddenHeaders)
        {
            if (token.TryGetHeaderValue<object>(header, out _))
            {
                return Invalid("The token's header carries key material or critical extensions, which are not accepted.");
            }
        }

        var kid = string.IsNullOrEmpty(token.Kid) ? null : token.Kid;
        var keys = await _keys.GetAsync(kid, family, cancellationToken);
        if (keys is null)
        {
            return AuthAttempt.Unavailable("The issuer's signing keys could not be obtained.");
        }

        var candidates = keys.Candidates(kid, algorithm, family);
        if (candidates.Count == 0)
        {
            return Invalid("The token's signing key is not known.");
        }

        var parameters = _parameters.Clone();
        parameters.IssuerSigningKeys = candidates;
        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
        {
            if (result.Exception is TokenLifetimeRefusedException refused)
            {
                JwtLog.TokenRefused(_logger, Name, JwtDefects.Reason(refused.Defect));
            }

            return Invalid(Describe(result.Exception));
        }

        var caller = CreateCaller(result.ClaimsIdentity);
        if (_settings.ForwardToken)
        {
            // The upstream gets the token and may read any of its claims (acr, amr, auth_time...), not only what the
            // identity headers say: what is stored for this caller depends on the token itself. Computed once per
            // validation (the attempt is cached with it), never per request.
            caller = caller with { ForwardedCredentialDigest = (hash == default ? TokenHash.Of(credential) : hash).ToHex() };
        }

        var success = AuthAttempt.Success(caller);
        _cache?.Add(hash, Facts(token, kid, family), keys, success, _time.GetUtcNow());
        return success;
    }

    /// <summary>When a validated token may be taken from the cache: from its <c>nbf</c>/<c>iat</c> less the skew to its <c>exp</c>.</summary>
    private ValidatedTokenFacts Facts(JsonWebToken token, string? kid, KeyFamily family)
    {
        // IdentityModel gives DateTime.MinValue for an absent date; exp is required, so it is present here.
        var start = token.ValidFrom > token.IssuedAt ? token.ValidFrom : token.IssuedAt;
        var validFrom = start == DateTime.MinValue ? DateTimeOffset.MinValue : new DateTimeOffset(start, TimeSpan.Zero) - _settings.ClockSkew;
        return new ValidatedTokenFacts(kid, family, validFrom, new DateTimeOffset(token.ValidTo, TimeSpan.Zero));
    }

    public string Challenge(string? error = null, string? description = null)
    {
        if (error is null)
        {
            return "Bearer";
        }

        return description is null ? $"Bearer error=\"{error}\"" : $"Bearer error=\"{error}\", error_description=\"{description}\"";
    }

    private static AuthAttempt Invalid(string description) => AuthAttempt.Invalid(AuthProblemCodes.InvalidToken, description);

    /// <summary>A refusal by our own checks: the client gets the category's usual words, the log gets the reason.</summary>
    private AuthAttempt Refused(JwtDefect defect, string description)
    {
        JwtLog.TokenRefused(_logger, Name, JwtDefects.Reason(defect));
        return Invalid(description);
    }

    /// <summary>
    /// <c>typ</c> against <c>RequireTyp</c> (kept as lower-case full media types): case-insensitive, and a value without
    /// '/' stands for <c>application/</c> plus it (RFC 7515 §4.1.9), so <c>at+jwt</c> and <c>application/AT+JWT</c> match.
    /// </summary>
    private bool IsRequiredType(string? typ)
    {
        if (string.IsNullOrEmpty(typ))
        {
            return false;
        }

        const string Application = "application/";
        var full = typ.Contains('/', StringComparison.Ordinal);
        foreach (var required in _settings.RequiredTypes)
        {
            var match = full
                ? string.Equals(typ, required, StringComparison.OrdinalIgnoreCase)
                : required.StartsWith(Application, StringComparison.Ordinal) && required.AsSpan(Application.Length).Equals(typ, StringComparison.OrdinalIgnoreCase);
            if (match)
            {
                return true;
            }
        }

        return false;
    }

    // Our own words for each failure; IdentityModel's messages can quote the token and are never shown or logged.
    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenNoExpirationException => "The token has no expiration time.",
        SecurityTokenInvalidLifetimeException => "The token's lifetime is invalid.",
        SecurityTokenInvalidIssuerException => "The token's issuer is not accepted.",
        SecurityTokenInvalidAudienceException => "The token's audience is not accepted.",
        SecurityTokenInvalidAlgorithmException => "The token's algorithm is not accepted.",
        SecurityTokenSignatureKeyNotFoundException => "The token's signing key is not known.",
        SecurityTokenInvalidSignatureException => "The token's signature is invalid.",
        SecurityTokenMalformedException or ArgumentException => "The token is malformed.",
        _ => "The token is invalid.",
    };

    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException("no exp");
        }

        var now = _time.GetUtcNow().UtcDateTime;
        var skew = _settings.ClockSkew;
        if (notBefore is { } nbf && nbf > expires)
        {
            throw new SecurityTokenInvalidLifetimeException("nbf after exp");
        }

        if (notBefore is { } start && start - skew > now)
        {
            throw new SecurityTokenNotYetValidException("not yet valid") { NotBefore = start };
        }

        if (expires.Value + skew < now)
        {
            throw new SecurityTokenExpiredException("expired") { Expires = expires.Value };
        }

        // IdentityModel leaves iat alone; RFC 8725 §3.10 asks for plausible times. DateTime.MinValue means no iat.
        var issuedAt = token is JsonWebToken jwt ? jwt.IssuedAt : DateTime.MinValue;
        var hasIssuedAt = issuedAt != DateTime.MinValue;
        if (hasIssuedAt && issuedAt - skew > now)
        {
            throw new TokenLifetimeRefusedException(JwtDefect.IssuedInFuture);
        }

        if (_settings.MaxTokenLifetime is { } max)
        {
            if (hasIssuedAt && expires.Value - issuedAt > max)
            {
                throw new TokenLifetimeRefusedException(JwtDefect.LifetimeTooLong);
            }

            if (expires.Value - now > max + skew)
            {
                throw new TokenLifetimeRefusedException(JwtDefect.RemainingLifetimeTooLong);
            }
        }

        return true;
    }

    private GatewayIdentity CreateCaller(ClaimsIdentity identity)
    {
        string? First(string type) => identity.FindFirst(type)?.Value is { Length: > 0 } value ? value : null;

        var roles = new List<string>();
        foreach (var type in _settings.RoleClaims)
        {
            foreach (var claim in identity.FindAll(type))
            {
                if (claim.Value.Length > 0 && !roles.Contains(claim.Value))
                {
                    roles.Add(claim.Value);
                }
            }
        }

        var scopes = new List<string>();
        foreach (var type in _settings.ScopeClaims)
        {
            foreach (var claim in identity.FindAll(type))
            {
                foreach (var scope in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!scopes.Contains(scope))
                    {
                        scopes.Add(scope);
                    }
                }
            }
        }

        string? consumer = null;
        foreach (var type in _settings.ConsumerIdClaims)
        {
            if ((consumer = First(type)) is not null)
            {
                break;
            }
        }

        // Roles and scopes also become "role"/"scope" claims, so the principal answers IsInRole whatever the token called them.
        foreach (var role in roles)
        {
            if (!identity.HasClaim("role", role))
            {
                identity.AddClaim(new Claim("role", role));
            }
        }

        var extra = new List<KeyValuePair<string, IReadOnlyList<string>>>(_settings.ClaimHeaders.Count);
        foreach (var (header, claimType) in _settings.ClaimHeaders)
        {
            List<string>? values = null;
            foreach (var claim in identity.FindAll(claimType))
            {
                if (claim.Value.Length > 0)
                {
                    (values ??= []).Add(claim.Value);
                }
            }

            if (values is not null)
            {
                extra.Add(new(header, values));
            }
        }

        var tier = _settings.TierClaim is { } tierClaim ? First(tierClaim) : null;
        return new GatewayIdentity(Name, First(_settings.UserIdClaim), consumer, tier, new ClaimsPrincipal(identity))
        {
            Email = First(_settings.EmailClaim),
            Roles = roles,
            Scopes = scopes,
            ExtraHeaders = extra,
            ForwardToken = _settings.ForwardToken,
        };
    }
}

/// <summary>Reads <c>Authorization: &lt;scheme&gt; &lt;credential&gt;</c> (the scheme case-insensitively).</summary>
internal static class AuthorizationHeader
{
    public static bool TryGetCredential(string? value, string scheme, out string credential)
    {
        credential = "";
        if (value is null || value.Length < scheme.Length || !value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (value.Length == scheme.Length)
        {
            return true;
        }

        if (value[scheme.Length] != ' ')
        {
            return false;
        }

        credential = value[(scheme.Length + 1)..].Trim();
        return true;
    }
}
