namespace FuncGateway.Backend;

/// <summary>
/// Settings of the verifier, usually bound from a configuration section such as <c>GatewaySignature</c>:
/// <c>GatewaySignature:Keys:&lt;key id&gt; = &lt;base64 secret&gt;</c>, <c>GatewaySignature:MaxAgeSeconds = 60</c>.
/// </summary>
public sealed class GatewaySignatureOptions
{
    /// <summary>The configuration section the sample and the docs use.</summary>
    public const string SectionName = "GatewaySignature";

    /// <summary>
    /// Accepted keys by key id: base64 secrets of at least 32 bytes, the same as the gateway's
    /// <c>FuncGateway:Auth:Signing:Keys</c>. Several may be listed so the gateway can move to a new key.
    /// </summary>
    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

    /// <summary>How far (seconds) the signature's timestamp may be from the backend's clock, either way. Default 60.</summary>
    public double MaxAgeSeconds { get; set; } = 60;

    /// <summary>Paths (exact, case-insensitive) that are let through unsigned, e.g. a health probe. Default none.</summary>
    public IList<string> UnsignedPaths { get; } = [];
}
