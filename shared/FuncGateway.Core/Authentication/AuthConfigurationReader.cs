using System.Collections.Frozen;
using System.Globalization;
using FuncGateway.Authentication.Basic;
using FuncGateway.Backend;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using FuncGateway.Model;

namespace FuncGateway.Authentication;

/// <summary>
/// Reads <c>FuncGateway:Auth</c> into <see cref="GatewayAuthSettings"/>, collecting every problem (with the full key
/// that has it) instead of stopping at the first, and refusing keys it does not know so a typo is never ignored.
/// </summary>
internal static class AuthConfigurationReader
{
    /// <summary>Algorithms a policy may allow. <c>none</c> is never among them.</summary>
    internal static readonly FrozenSet<string> SupportedAlgorithms = new[]
    {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly string[] CommonKeys = ["Type"];
    private static readonly string[] JwtKeys =
    [
        "Issuer", "Audiences", "MetadataAddress", "JwksUri", "Jwks", "SymmetricKeys", "Algorithms", "ClockSkewSeconds",
        "RequireTyp", "MaxTokenLifetimeSeconds", "KeyRefreshSeconds", "UnknownKeyRefreshSeconds", "MetadataTimeoutSeconds", "RequireHttpsMetadata", "TokenCacheSeconds", "TokenCacheSize", "UserIdClaim",
        "EmailClaim", "RoleClaims", "ScopeClaims", "ConsumerIdClaims", "TierClaim", "ClaimHeaders", "ForwardToken",
    ];

    private static readonly string[] ApiKeyKeys = ["Header"];
    private static readonly string[] BasicKeys = ["Realm", "Users", "Roles", "CacheSeconds"];
    private static readonly string[] SectionKeys = ["Policies", "ApiKeys", "Signing"];
    private static readonly string[] ApiKeyStoreKeys = ["CacheSeconds", "NegativeCacheSeconds", "CacheSize", "LookupTimeoutSeconds", "StaleIfErrorSeconds"];
    private static readonly string[] SigningKeys = ["Keys", "ActiveKeyId"];

    public static void Load(GatewayAuthSettings settings, IConfiguration auth)
    {
        var errors = settings.Errors;
        errors.Clear();
        var prefix = AuthPolicies.SectionName;
        RejectUnknown(auth, prefix, SectionKeys, errors);

        var policies = new Dictionary<string, AuthPolicySettings>(StringComparer.OrdinalIgnoreCase);
        foreach (var section in auth.GetSection("Policies").GetChildren())
        {
            var policy = ReadPolicy(section, $"{prefix}:Policies:{section.Key}", errors);
            if (policy is not null)
            {
                policies[section.Key] = policy;
            }
        }

        settings.Policies = policies.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        settings.ApiKeys = ReadApiKeyStore(auth.GetSection("ApiKeys"), $"{prefix}:ApiKeys", errors);
        settings.Signing = ReadSigning(auth.GetSection("Signing"), $"{prefix}:Signing", errors);
    }

    private static AuthPolicySettings? ReadPolicy(IConfigurationSection section, string at, List<string> errors)
    {
        var name = section.Key;
        if (string.Equals(name, AuthPolicies.Anonymous, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{at}: '{AuthPolicies.Anonymous}' is reserved for routes without authentication; choose another policy name.");
            return null;
        }

        if (!ConfigurationNames.IsValid(name))
        {
            errors.Add(ConfigurationNames.Describe(at, "policy", name));
            return null;
        }

        var typeText = section["Type"];
        if (string.IsNullOrWhiteSpace(typeText) || !Enum.TryParse<AuthPolicyType>(typeText.Trim(), ignoreCase: true, out var type) || !Enum.IsDefined(type) || int.TryParse(typeText, out _))
        {
            errors.Add($"{at}:Type must be Jwt, ApiKey or Basic{(string.IsNullOrWhiteSpace(typeText) ? " (it is missing)" : "")}.");
            return null;
        }

        var reader = new Reader(section, at, errors);
        switch (type)
        {
            case AuthPolicyType.Jwt:
                RejectUnknown(section, at, [.. CommonKeys, .. JwtKeys], errors);
                return ReadJwt(name, reader, section, at, errors);
            case AuthPolicyType.ApiKey:
                RejectUnknown(section, at, [.. CommonKeys, .. ApiKeyKeys], errors);
                var header = reader.String("Header") ?? "X-API-Key";
                if (!HttpSyntax.IsToken(header) || GatewayHeaders.IsIdentityNamespace(header))
                {
                    errors.Add($"{at}:Header '{PrintableText.Of(header)}' is not a valid header name, or is in the gateway's identity namespace.");
                }

                return new ApiKeyPolicySettings(name) { Header = header };
            default:
                RejectUnknown(section, at, [.. CommonKeys, .. BasicKeys], errors);
                return ReadBasic(name, reader, section, at, errors);
        }
    }

    private static JwtPolicySettings ReadJwt(string name, Reader reader, IConfigurationSection section, string at, List<string> errors)
    {
        var issuer = reader.String("Issuer");
        if (issuer is null)
        {
            errors.Add($"{at}:Issuer is required: the exact 'iss' value of the tokens.");
        }

        var audiences = reader.List("Audiences");
        if (audiences.Count == 0)
        {
            errors.Add($"{at}:Audiences is required: the 'aud' values a token may carry (comma-separated).");
        }

        var metadata = reader.Url("MetadataAddress");
        var jwksUri = reader.Url("JwksUri");
        var jwks = reader.String("Jwks");
        if (metadata is not null && jwksUri is not null)
        {
            errors.Add($"{at}: set MetadataAddress (OIDC discovery) or JwksUri, not both.");
        }

        if (jwks is not null)
        {
            try
            {
                _ = Jwt.SigningKeySet.FromJwks(jwks, name);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or System.Text.Json.JsonException or InvalidOperationException)
            {
                errors.Add($"{at}:Jwks is not a valid JSON Web Key Set with at least one RSA or EC public key.");
            }
        }

        var symmetric = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var key in section.GetSection("SymmetricKeys").GetChildren())
        {
            if (IsUnresolvedReference(key.Value))
            {
                errors.Add(UnresolvedReference($"{at}:SymmetricKeys:{key.Key}"));
            }
            else if (GatewaySignature.TryDecodeKey(key.Value, out var bytes))
            {
                symmetric[key.Key] = bytes;
            }
            else
            {
                errors.Add($"{at}:SymmetricKeys:{key.Key} must be base64 of at least {GatewaySignature.MinimumKeyBytes} bytes.");
            }
        }

        var hasAsymmetric = metadata is not null || jwksUri is not null || jwks is not null;
        if (!hasAsymmetric && symmetric.Count == 0)
        {
            errors.Add($"{at}: no signing keys: set MetadataAddress, JwksUri, Jwks or SymmetricKeys:<kid>.");
        }

        var algorithms = reader.List("Algorithms");
        if (algorithms.Count == 0)
        {
            algorithms = hasAsymmetric ? ["RS256"] : ["HS256"];
        }

        foreach (var algorithm in algorithms)
        {
            if (!SupportedAlgorithms.Contains(algorithm))
            {
                errors.Add($"{at}:Algorithms: '{PrintableText.Of(algorithm)}' is not supported. Supported (case-sensitive): {string.Join(", ", SupportedAlgorithms.Order(StringComparer.Ordinal))}.");
            }
            else if (algorithm.StartsWith("HS", StringComparison.Ordinal) && symmetric.Count == 0)
            {
                errors.Add($"{at}:Algorithms allows {algorithm} but no SymmetricKeys are configured.");
            }
            else if (!algorithm.StartsWith("HS", StringComparison.Ordinal) && !hasAsymmetric)
            {
                errors.Add($"{at}:Algorithms allows {algorithm} but there is no MetadataAddress, JwksUri or Jwks to take public keys from.");
            }
        }

        var claimHeaders = new List<KeyValuePair<string, string>>();
        foreach (var mapping in section.GetSection("ClaimHeaders").GetChildren())
        {
            // '_' stands for '-', so that the key can be an app setting name (ClaimHeaders__X_User_Tenant): Azure and
            // shells refuse '-' there. No header in the identity namespace loses by it: the gateway already treats
            // X_User_Tenant and X-User-Tenant as the same header when it strips clients' copies.
            var header = mapping.Key.Replace('_', '-');
            if (!HttpSyntax.IsToken(header) || !GatewayHeaders.IsSigned(header) || header.Equals(GatewayHeaders.AuthPolicy, StringComparison.OrdinalIgnoreCase)
                || GatewayHeaders.IsWrittenHeaderLookAlike(header))
            {
                errors.Add($"{at}:ClaimHeaders:{header}: a mapped header must be named X-User-* or X-Consumer-* and not be one the gateway already sets.");
            }
            else if (string.IsNullOrWhiteSpace(mapping.Value))
            {
                errors.Add($"{at}:ClaimHeaders:{header} must name a claim type.");
            }
            else
            {
                claimHeaders.Add(new(header, mapping.Value.Trim()));
            }
        }

        return new JwtPolicySettings(name)
        {
            Issuer = issuer ?? "",
            Audiences = audiences,
            MetadataAddress = metadata,
            JwksUri = jwksUri,
            Jwks = jwks,
            SymmetricKeys = symmetric,
            Algorithms = algorithms.Distinct(StringComparer.Ordinal).ToArray(),
            ClockSkew = TimeSpan.FromSeconds(reader.Number("ClockSkewSeconds", 0, 600) ?? 60),
            RequiredTypes = ReadRequiredTypes(reader.List("RequireTyp"), at, errors),
            MaxTokenLifetime = reader.Number("MaxTokenLifetimeSeconds", 1, 31_536_000) is { } lifetime ? TimeSpan.FromSeconds(lifetime) : null,
            KeyRefreshInterval = TimeSpan.FromSeconds(reader.Number("KeyRefreshSeconds", 1, 86_400) ?? 300),
            UnknownKeyRefreshInterval = TimeSpan.FromSeconds(reader.Number("UnknownKeyRefreshSeconds", 1, 3600) ?? 30),
            MetadataTimeout = TimeSpan.FromSeconds(reader.Number("MetadataTimeoutSeconds", 0.5, 60) ?? 5),
            RequireHttpsMetadata = reader.Boolean("RequireHttpsMetadata") ?? true,
            TokenCacheDuration = TimeSpan.FromSeconds(reader.Number("TokenCacheSeconds", 0, 86_400) ?? 300),
            TokenCacheSize = (int)(reader.Number("TokenCacheSize", 1, 1_000_000) ?? 10_000),
            UserIdClaim = reader.String("UserIdClaim") ?? "sub",
            EmailClaim = reader.String("EmailClaim") ?? "email",
            RoleClaims = reader.OptionalList("RoleClaims") ?? ["roles", "role"],
            ScopeClaims = reader.OptionalList("ScopeClaims") ?? ["scope", "scp"],
            ConsumerIdClaims = reader.OptionalList("ConsumerIdClaims") ?? ["azp", "client_id"],
            TierClaim = reader.String("TierClaim"),
            ClaimHeaders = claimHeaders,
            ForwardToken = reader.Boolean("ForwardToken") ?? false,
        };
    }

    /// <summary>
    /// <c>RequireTyp</c>: media types such as <c>at+jwt</c> (RFC 9068). As RFC 7515 says of <c>typ</c>, a value without a
    /// '/' means <c>application/</c> plus it, and media types compare case-insensitively; so each is kept lower-case, in full.
    /// </summary>
    private static List<string> ReadRequiredTypes(List<string> values, string at, List<string> errors)
    {
        var types = new List<string>(values.Count);
        foreach (var value in values)
        {
            var slash = value.IndexOf('/', StringComparison.Ordinal);
            var valid = slash < 0
                ? HttpSyntax.IsToken(value)
                : HttpSyntax.IsToken(value.AsSpan(0, slash)) && HttpSyntax.IsToken(value.AsSpan(slash + 1));
            if (!valid)
            {
                errors.Add($"{at}:RequireTyp: '{PrintableText.Of(value)}' is not a media type such as at+jwt or application/at+jwt.");
                continue;
            }

            var type = (slash < 0 ? "application/" + value : value).ToLowerInvariant();
            if (!types.Contains(type))
            {
                types.Add(type);
            }
        }

        return types;
    }

    private static BasicPolicySettings ReadBasic(string name, Reader reader, IConfigurationSection section, string at, List<string> errors)
    {
        var users = new Dictionary<string, PasswordHash>(StringComparer.Ordinal);
        foreach (var user in section.GetSection("Users").GetChildren())
        {
            if (user.Key.Contains(':', StringComparison.Ordinal) || user.Key.Length == 0)
            {
                errors.Add($"{at}:Users: a user name may not be empty or contain ':'.");
            }
            else if (IsUnresolvedReference(user.Value))
            {
                errors.Add(UnresolvedReference($"{at}:Users:{user.Key}"));
            }
            else if (PasswordHash.TryParse(user.Value, out var hash, out var error))
            {
                users[user.Key] = hash!;
            }
            else
            {
                errors.Add($"{at}:Users:{user.Key} {error}");
            }
        }

        if (users.Count == 0)
        {
            errors.Add($"{at}:Users needs at least one user (Users:<name> = a hash from 'fgw basic hash').");
        }

        var roles = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var entry in section.GetSection("Roles").GetChildren())
        {
            if (!users.ContainsKey(entry.Key))
            {
                errors.Add($"{at}:Roles:{entry.Key} names a user that is not under Users.");
            }

            roles[entry.Key] = SplitList(entry.Value);
        }

        var realm = reader.String("Realm") ?? "FuncGateway";
        if (realm.Contains('"', StringComparison.Ordinal) || realm.Contains('\\', StringComparison.Ordinal) || realm.Any(char.IsControl))
        {
            errors.Add($"{at}:Realm may not contain quotes, backslashes or control characters.");
        }

        return new BasicPolicySettings(name)
        {
            Realm = realm,
            Users = users,
            Roles = roles,
            CacheDuration = TimeSpan.FromSeconds(reader.Number("CacheSeconds", 0, 3600) ?? 300),
        };
    }

    private static ApiKeyStoreSettings ReadApiKeyStore(IConfigurationSection section, string at, List<string> errors)
    {
        RejectUnknown(section, at, ApiKeyStoreKeys, errors);
        var reader = new Reader(section, at, errors);
        return new ApiKeyStoreSettings
        {
            CacheDuration = TimeSpan.FromSeconds(reader.Number("CacheSeconds", 0, 3600) ?? 30),
            NegativeCacheDuration = TimeSpan.FromSeconds(reader.Number("NegativeCacheSeconds", 0, 3600) ?? 5),
            CacheSize = (int)(reader.Number("CacheSize", 1, 10_000_000) ?? 10_000),
            LookupTimeout = TimeSpan.FromSeconds(reader.Number("LookupTimeoutSeconds", 0.1, 60) ?? 5),
            StaleIfError = TimeSpan.FromSeconds(reader.Number("StaleIfErrorSeconds", 0, 86_400) ?? 300),
        };
    }

    private static SigningSettings ReadSigning(IConfigurationSection section, string at, List<string> errors)
    {
        RejectUnknown(section, at, SigningKeys, errors);
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var key in section.GetSection("Keys").GetChildren())
        {
            if (!HttpSyntax.IsToken(key.Key))
            {
                errors.Add($"{at}:Keys:{key.Key}: a key id may hold only letters, digits and - _ . ~ (no spaces).");
            }
            else if (IsUnresolvedReference(key.Value))
            {
                errors.Add(UnresolvedReference($"{at}:Keys:{key.Key}"));
            }
            else if (GatewaySignature.TryDecodeKey(key.Value, out var bytes))
            {
                keys[key.Key] = bytes;
            }
            else
            {
                errors.Add($"{at}:Keys:{key.Key} must be base64 of at least {GatewaySignature.MinimumKeyBytes} bytes (e.g. 'openssl rand -base64 32').");
            }
        }

        var active = section["ActiveKeyId"];
        if (string.IsNullOrWhiteSpace(active))
        {
            if (keys.Count > 1)
            {
                errors.Add($"{at}:ActiveKeyId is required when several keys are configured: it names the one the gateway signs with.");
            }

            active = keys.Count == 1 ? keys.Keys.First() : null;
        }
        else if (!keys.ContainsKey(active.Trim()))
        {
            errors.Add($"{at}:ActiveKeyId '{PrintableText.Of(active)}' is not one of the configured Keys.");
            active = null;
        }

        return new SigningSettings(active?.Trim(), keys.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private static void RejectUnknown(IConfiguration section, string at, string[] known, List<string> errors)
    {
        foreach (var child in ConfigurationKeys.Unknown(section, known))
        {
            errors.Add($"{at}:{child.Key} is not a known setting here. Known: {string.Join(", ", known)}.");
        }
    }

    // App Service passes a Key Vault reference it could not resolve on as its text. Never quote it: it names the secret.
    private static bool IsUnresolvedReference(string? value) =>
        value is not null && value.TrimStart().StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase);

    private static string UnresolvedReference(string key) =>
        $"{key} is still an unresolved Key Vault reference: the app cannot read the secret (is it in the vault, and may the app's identity read it?).";

    internal static List<string> SplitList(string? value) =>
        [.. (value ?? "").Split([',', ' '], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>Typed reads of one section's values, recording errors with the full key.</summary>
    private readonly struct Reader(IConfigurationSection section, string at, List<string> errors)
    {
        public string? String(string key)
        {
            var value = section[key];
            return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        }

        public List<string> List(string key) => SplitList(section[key]);

        public List<string>? OptionalList(string key) => section[key] is null ? null : SplitList(section[key]);

        public string? Url(string key)
        {
            var value = String(key);
            if (value is null)
            {
                return null;
            }

            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                errors.Add($"{at}:{key} must be an absolute http(s) URL.");
                return null;
            }

            var requireHttps = !bool.TryParse(section["RequireHttpsMetadata"]?.Trim(), out var flag) || flag;
            if (uri.Scheme == Uri.UriSchemeHttp && requireHttps)
            {
                errors.Add($"{at}:{key} must use https (set RequireHttpsMetadata to false only for local development).");
            }

            return value;
        }

        public double? Number(string key, double min, double max)
        {
            var value = section[key];
            if (string.IsNullOrWhiteSpace(value))
            {
                return null;
            }

            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || double.IsNaN(number) || number < min || number > max)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}:{key} must be a number in [{min}, {max}]."));
                return null;
            }

            return number;
        }

        public bool? Boolean(string key)
        {
            var value = section[key];
            if (string.IsNullOrWhiteSpace(value))
            {
                return null;
            }

            if (!bool.TryParse(value.Trim(), out var result))
            {
                errors.Add($"{at}:{key} must be true or false.");
                return null;
            }

            return result;
        }
    }
}

/// <summary>Validates <see cref="GatewayAuthSettings"/> at start-up: every error at once.</summary>
internal sealed class GatewayAuthSettingsValidator : IValidateOptions<GatewayAuthSettings>
{
    public ValidateOptionsResult Validate(string? name, GatewayAuthSettings options) =>
        options.Errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(options.Errors);
}
