namespace FuncGateway.Cors;

/// <summary>
/// <c>FuncGateway:Cors</c>: CORS policies by name, which routes name in their <c>Cors</c> property. Bound with
/// <c>BindKnownSettings</c> (an unknown key stops start-up) and checked in full by <see cref="CorsSettingsValidator"/>.
/// </summary>
internal sealed class CorsSettings
{
    public const string SectionName = "FuncGateway:Cors";

    /// <summary>The policies, by name (letters, digits and single '_'; compared case-insensitively).</summary>
    public Dictionary<string, CorsPolicySettings> Policies { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One CORS policy as configured: every list is comma-separated (the Bicep template joins arrays so).</summary>
internal sealed class CorsPolicySettings
{
    /// <summary>Required. Exact origins (<c>https://app.example.com</c>, <c>http://localhost:3000</c>), subdomain patterns (<c>https://*.example.com</c>), the literal <c>null</c>, or <c>*</c> alone (any origin, never with credentials).</summary>
    public string? AllowedOrigins { get; set; }

    /// <summary>Methods a preflight allows (<c>Access-Control-Allow-Methods</c>), or <c>*</c> for the one asked for. Empty: none listed.</summary>
    public string? AllowedMethods { get; set; }

    /// <summary>Request headers a preflight allows (<c>Access-Control-Allow-Headers</c>), or <c>*</c> for those asked for. Empty: none listed.</summary>
    public string? AllowedHeaders { get; set; }

    /// <summary>Response headers a page may read beyond the safelisted ones (<c>Access-Control-Expose-Headers</c>).</summary>
    public string? ExposedHeaders { get; set; }

    /// <summary>Whether a page may send cookies and HTTP authentication and read the answer (<c>Access-Control-Allow-Credentials: true</c>).</summary>
    public bool AllowCredentials { get; set; }

    /// <summary>How long a browser may cache a preflight's answer (<c>Access-Control-Max-Age</c>), 0–86400. Unset: no header (browsers then keep it 5 s).</summary>
    public int? MaxAgeSeconds { get; set; }
}
