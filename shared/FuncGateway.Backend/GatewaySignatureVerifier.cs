using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace FuncGateway.Backend;

/// <summary>Why a request's signature was refused.</summary>
public enum GatewaySignatureFailure
{
    /// <summary>The signature is valid.</summary>
    None,

    /// <summary>No signature, timestamp or key id header.</summary>
    Missing,

    /// <summary>The timestamp is not a number, or further from now than the allowed age.</summary>
    Stale,

    /// <summary>The key id is not one of the configured keys.</summary>
    UnknownKey,

    /// <summary>The signature does not match the request.</summary>
    Invalid,
}

/// <summary>Checks the gateway's signature on a request as it arrived at the backend.</summary>
public sealed class GatewaySignatureVerifier
{
    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _time;

    /// <summary>Creates a verifier; throws when a key is not base64 of at least 32 bytes or there is no key.</summary>
    public GatewaySignatureVerifier(IOptions<GatewaySignatureOptions> options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        foreach (var (id, secret) in value.Keys)
        {
            if (!GatewaySignature.TryDecodeKey(secret, out var key))
            {
                throw new OptionsValidationException(GatewaySignatureOptions.SectionName, typeof(GatewaySignatureOptions),
                    [$"GatewaySignature:Keys:{id} must be base64 of at least {GatewaySignature.MinimumKeyBytes} bytes."]);
            }

            _keys[id] = key;
        }

        if (_keys.Count == 0)
        {
            throw new OptionsValidationException(GatewaySignatureOptions.SectionName, typeof(GatewaySignatureOptions),
                ["GatewaySignature:Keys needs at least one key."]);
        }

        if (value.MaxAgeSeconds is <= 0 or > 3600)
        {
            throw new OptionsValidationException(GatewaySignatureOptions.SectionName, typeof(GatewaySignatureOptions),
                ["GatewaySignature:MaxAgeSeconds must be in (0, 3600]."]);
        }

        _maxAge = TimeSpan.FromSeconds(value.MaxAgeSeconds);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Verifies the request; <see cref="GatewaySignatureFailure.None"/> when it carries a valid, fresh signature.</summary>
    public GatewaySignatureFailure Verify(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var headers = request.Headers;
        var signature = headers[GatewayHeaders.Signature];
        var timestampText = headers[GatewayHeaders.Timestamp];
        var keyId = headers[GatewayHeaders.KeyId];
        if (signature.Count != 1 || timestampText.Count != 1 || keyId.Count != 1)
        {
            return GatewaySignatureFailure.Missing;
        }

        if (!long.TryParse(timestampText[0], NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return GatewaySignatureFailure.Stale;
        }

        var age = _time.GetUtcNow().ToUnixTimeSeconds() - timestamp;
        if (Math.Abs(age) > _maxAge.TotalSeconds)
        {
            return GatewaySignatureFailure.Stale;
        }

        if (!_keys.TryGetValue(keyId[0]!, out var key))
        {
            return GatewaySignatureFailure.UnknownKey;
        }

        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in headers)
        {
            if (GatewayHeaders.IsSigned(name))
            {
                // Several fields of one name are joined with ',' (HTTP's own rule), so an added field breaks the signature.
                pairs.Add(new(name, string.Join(',', values.Select(v => (v ?? "").Trim()))));
            }
        }

        var canonical = GatewaySignature.BuildCanonicalString(timestamp, keyId[0]!, request.Method, RequestTarget(request), pairs);
        return GatewaySignature.Matches(key, canonical, signature[0]) ? GatewaySignatureFailure.None : GatewaySignatureFailure.Invalid;
    }

    /// <summary>The request target as received (percent-encoding intact), falling back to the decoded parts.</summary>
    internal static string RequestTarget(HttpRequest request)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(raw) && raw[0] == '/')
        {
            return raw;
        }

        return (request.PathBase + request.Path).ToUriComponent() + request.QueryString.ToUriComponent();
    }
}
