namespace FuncGateway.Authentication;

/// <summary>Names the route format and configuration use for authentication.</summary>
public static class AuthPolicies
{
    /// <summary>The one word a route's <c>Auth</c> uses to say it needs no authentication.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>Configuration section of the policies and the other identity settings.</summary>
    public const string SectionName = "FuncGateway:Auth";
}

/// <summary>The kinds of policy (<c>FuncGateway:Auth:Policies:&lt;name&gt;:Type</c>).</summary>
public enum AuthPolicyType
{
    /// <summary>JWT bearer tokens validated against an issuer's keys.</summary>
    Jwt,

    /// <summary>API keys looked up by hash in the ApiKeys table.</summary>
    ApiKey,

    /// <summary>HTTP Basic against PBKDF2 hashes in configuration.</summary>
    Basic,
}
