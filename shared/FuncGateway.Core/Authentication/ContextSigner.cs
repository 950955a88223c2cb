using System.Globalization;
using FuncGateway.Backend;

namespace FuncGateway.Authentication;

/// <summary>Signs the user context of each forwarded request with the active key (<c>FuncGateway:Auth:Signing</c>).</summary>
internal sealed class ContextSigner
{
    private readonly string? _keyId;
    private readonly byte[] _key = [];
    private readonly TimeProvider _time;

    public ContextSigner(GatewayAuthSettings settings, TimeProvider time)
    {
        _time = time;
        if (settings.Signing.ActiveKeyId is { } id && settings.Signing.Keys.TryGetValue(id, out var key))
        {
            _keyId = id;
            _key = key;
        }
    }

    public bool Enabled => _keyId is not null;

    /// <summary>Adds <c>X-Gateway-Timestamp</c>, <c>X-Gateway-Key-Id</c> and <c>X-Gateway-Signature</c> for what is about to be sent.</summary>
    public void Sign(HttpRequestMessage request, List<KeyValuePair<string, string>> injected)
    {
        if (_keyId is null)
        {
            return;
        }

        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        var canonical = GatewaySignature.BuildCanonicalString(timestamp, _keyId, request.Method.Method, request.RequestUri!.PathAndQuery, injected);
        var headers = request.Headers;
        headers.TryAddWithoutValidation(GatewayHeaders.Timestamp, timestamp.ToString(CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation(GatewayHeaders.KeyId, _keyId);
        headers.TryAddWithoutValidation(GatewayHeaders.Signature, GatewaySignature.Sign(_key, canonical));
    }
}
