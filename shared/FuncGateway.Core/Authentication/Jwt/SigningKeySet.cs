using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace FuncGateway.Authentication.Jwt;

/// <summary>The family of a signing algorithm; a key only ever verifies algorithms of its own family.</summary>
internal enum KeyFamily
{
    Rsa,
    EllipticCurve,
    Hmac,
}

/// <summary>One key the gateway trusts for a policy.</summary>
/// <param name="KeyId">The JWK <c>kid</c> (or the configured name of a symmetric key); null when the JWKS gave none.</param>
/// <param name="Key">The IdentityModel key, public part only.</param>
/// <param name="Family">Which algorithms it can verify.</param>
/// <param name="Algorithm">The JWK's own <c>alg</c>, which then is the only algorithm it may verify.</param>
/// <param name="Material">The public key material of a key read from a JWKS (modulus and exponent, or curve and point),
/// so a refresh that fetched the same keys can be told from one that changed them; null for configured keys.</param>
internal sealed record SigningKey(string? KeyId, SecurityKey Key, KeyFamily Family, string? Algorithm, string? Material = null)
{
    /// <summary>Whether both verify the same tokens: the same key, or the same kid, family, algorithm and material.</summary>
    public bool SameAs(SigningKey other) =>
        ReferenceEquals(this, other)
        || (Material is not null
            && Family == other.Family
            && string.Equals(KeyId, other.KeyId, StringComparison.Ordinal)
            && string.Equals(Algorithm, other.Algorithm, StringComparison.Ordinal)
            && string.Equals(Material, other.Material, StringComparison.Ordinal));
}

/// <summary>
/// An immutable set of trusted keys. Built from a JWKS by our own rules rather than IdentityModel's lenient ones:
/// only RSA (2048 bits or more) and EC (P-256/384/521) public keys with <c>use</c> absent or <c>sig</c> and
/// <c>key_ops</c> absent or including <c>verify</c>; symmetric (<c>oct</c>) keys from a JWKS are ignored, so a
/// symmetric key can only come from the gateway's configuration.
/// </summary>
internal sealed class SigningKeySet
{
    public static readonly SigningKeySet Empty = new([]);

    private readonly SigningKey[] _keys;

    public SigningKeySet(IEnumerable<SigningKey> keys)
    {
        _keys = [.. keys];
    }

    public IReadOnlyList<SigningKey> Keys => _keys;

    public int Count => _keys.Length;

    /// <summary>Keys that may verify a token with this header: same family, matching kid (when the token has one) and algorithm.</summary>
    public List<SecurityKey> Candidates(string? kid, string algorithm, KeyFamily family)
    {
        var result = new List<SecurityKey>(1);
        foreach (var key in _keys)
        {
            if (key.Family != family || (key.Algorithm is not null && !string.Equals(key.Algorithm, algorithm, StringComparison.Ordinal)))
            {
                continue;
            }

            if (kid is null || string.Equals(key.KeyId, kid, StringComparison.Ordinal))
            {
                result.Add(key.Key);
            }
        }

        return result;
    }

    public bool Contains(string kid, KeyFamily family)
    {
        foreach (var key in _keys)
        {
            if (key.Family == family && string.Equals(key.KeyId, kid, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="other"/> holds the same keys in the same order: a key refresh that fetched an unchanged
    /// JWKS keeps the set it had, and with it the policy's cache of validated tokens.
    /// </summary>
    public bool SameKeysAs(SigningKeySet other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other._keys.Length != _keys.Length)
        {
            return false;
        }

        for (var i = 0; i < _keys.Length; i++)
        {
            if (!_keys[i].SameAs(other._keys[i]))
            {
                return false;
            }
        }

        return true;
    }

    public SigningKeySet Concat(SigningKeySet other) => other.Count == 0 ? this : Count == 0 ? other : new SigningKeySet(_keys.Concat(other._keys));

    /// <summary>Parses a JWKS document; throws when it is not JSON or holds no usable key.</summary>
    public static SigningKeySet FromJwks(string json, string policy)
    {
        var set = new JsonWebKeySet(json);
        return FromJsonWebKeys(set.Keys, policy, requireOne: true);
    }

    public static SigningKeySet FromJsonWebKeys(IEnumerable<JsonWebKey> keys, string policy, bool requireOne)
    {
        var result = new List<SigningKey>();
        foreach (var jwk in keys)
        {
            if (TryConvert(jwk, out var key))
            {
                result.Add(key!);
            }
        }

        if (requireOne && result.Count == 0)
        {
            throw new InvalidOperationException($"The key set of policy '{policy}' holds no usable RSA or EC signing key.");
        }

        return new SigningKeySet(result);
    }

    public static SigningKeySet FromSymmetric(IReadOnlyDictionary<string, byte[]> keys) =>
        new(keys.Select(static k => new SigningKey(k.Key, new SymmetricSecurityKey(k.Value) { KeyId = k.Key }, KeyFamily.Hmac, null)));

    private static bool TryConvert(JsonWebKey jwk, out SigningKey? key)
    {
        key = null;
        if (!string.IsNullOrEmpty(jwk.Use) && !string.Equals(jwk.Use, "sig", StringComparison.Ordinal))
        {
            return false;
        }

        // key_ops (RFC 7517 §4.3), when present, must allow "verify": a key published only to encrypt or wrap keys is
        // not a signing key, whatever its use says.
        if (jwk.KeyOps.Count > 0 && !jwk.KeyOps.Contains("verify"))
        {
            return false;
        }

        var kid = string.IsNullOrEmpty(jwk.Kid) ? null : jwk.Kid;
        var alg = string.IsNullOrEmpty(jwk.Alg) ? null : jwk.Alg;
        try
        {
            switch (jwk.Kty)
            {
                case "RSA":
                    RSA rsa;
                    if (!string.IsNullOrEmpty(jwk.N) && !string.IsNullOrEmpty(jwk.E))
                    {
                        rsa = RSA.Create(new RSAParameters { Modulus = Base64UrlEncoder.DecodeBytes(jwk.N), Exponent = Base64UrlEncoder.DecodeBytes(jwk.E) });
                    }
                    else if (jwk.X5c is { Count: > 0 })
                    {
                        using var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(jwk.X5c[0]));
                        rsa = certificate.GetRSAPublicKey() ?? throw new CryptographicException("Not an RSA certificate.");
                    }
                    else
                    {
                        return false;
                    }

                    if (rsa.KeySize < 2048 || alg is not null && !(alg.StartsWith("RS", StringComparison.Ordinal) || alg.StartsWith("PS", StringComparison.Ordinal)))
                    {
                        rsa.Dispose();
                        return false;
                    }

                    var parameters = rsa.ExportParameters(includePrivateParameters: false);
                    var material = Convert.ToBase64String(parameters.Modulus!) + "." + Convert.ToBase64String(parameters.Exponent!);
                    key = new SigningKey(kid, new RsaSecurityKey(rsa) { KeyId = kid }, KeyFamily.Rsa, alg, material);
                    return true;
                case "EC":
                    // RFC 7518 binds each ES algorithm to one curve: the curve decides the algorithm.
                    (ECCurve? curve, string? curveAlgorithm) = jwk.Crv switch
                    {
                        "P-256" => (ECCurve.NamedCurves.nistP256, "ES256"),
                        "P-384" => (ECCurve.NamedCurves.nistP384, "ES384"),
                        "P-521" => (ECCurve.NamedCurves.nistP521, "ES512"),
                        _ => ((ECCurve?)null, (string?)null),
                    };
                    if (curve is null || string.IsNullOrEmpty(jwk.X) || string.IsNullOrEmpty(jwk.Y) || alg is not null && alg != curveAlgorithm)
                    {
                        return false;
                    }

                    var ec = ECDsa.Create(new ECParameters
                    {
                        Curve = curve.Value,
                        Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(jwk.X), Y = Base64UrlEncoder.DecodeBytes(jwk.Y) },
                    });
                    key = new SigningKey(kid, new ECDsaSecurityKey(ec) { KeyId = kid }, KeyFamily.EllipticCurve, curveAlgorithm, $"{jwk.Crv}.{jwk.X}.{jwk.Y}");
                    return true;
                default:
                    // "oct" and anything else: a symmetric key never comes from a key set the gateway fetches.
                    return false;
            }
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or ArgumentException)
        {
            return false;
        }
    }

    public static KeyFamily? FamilyOf(string algorithm) => algorithm.Length < 2 ? null : algorithm[..2] switch
    {
        "RS" or "PS" => KeyFamily.Rsa,
        "ES" => KeyFamily.EllipticCurve,
        "HS" => KeyFamily.Hmac,
        _ => null,
    };
}
