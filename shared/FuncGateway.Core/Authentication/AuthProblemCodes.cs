namespace FuncGateway.Authentication;

/// <summary>Stable <c>code</c> values of the problem responses authentication and authorization produce.</summary>
public static class AuthProblemCodes
{
    /// <summary>401: the route needs credentials and the request has none.</summary>
    public const string Unauthenticated = "unauthenticated";

    /// <summary>401: a bearer token was refused (expired, wrong issuer or audience, bad signature, ...).</summary>
    public const string InvalidToken = "invalid_token";

    /// <summary>401: an API key is unknown, revoked or expired.</summary>
    public const string InvalidApiKey = "invalid_api_key";

    /// <summary>401: Basic credentials are wrong or malformed.</summary>
    public const string InvalidCredentials = "invalid_credentials";

    /// <summary>400: the credentials are ambiguous (two of them, in two places) or empty.</summary>
    public const string InvalidRequest = "invalid_request";

    /// <summary>403: authenticated, but without a role, scope or claim the route requires.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>429: too many failed authentications from this client; see Retry-After.</summary>
    public const string AuthThrottled = "auth_throttled";

    /// <summary>503: the keys needed to check the credential could not be obtained (IdP or key table unreachable).</summary>
    public const string AuthUnavailable = "auth_unavailable";
}
