using Microsoft.Extensions.Logging;

namespace FuncGateway.Authentication;

/// <summary>Log lines of authentication (event ids 4000–4999). Never a token, key, password or Authorization header.</summary>
internal static partial class AuthLog
{
    [LoggerMessage(4000, LogLevel.Information, "Authentication failed on route '{RouteId}' with policy '{Policy}': {Code} ({Reason}).")]
    public static partial void AuthenticationFailed(ILogger logger, string routeId, string policy, string code, string reason);

    [LoggerMessage(4001, LogLevel.Information, "Authorization denied on route '{RouteId}' for policy '{Policy}': {Reason}.")]
    public static partial void AuthorizationDenied(ILogger logger, string routeId, string policy, string reason);

    [LoggerMessage(4002, LogLevel.Debug, "Request on route '{RouteId}' carries no credential for policies {Policies}.")]
    public static partial void NoCredentials(ILogger logger, string routeId, string policies);

    [LoggerMessage(4003, LogLevel.Warning, "Authentication on route '{RouteId}' could not be completed: {Reason}.")]
    public static partial void AuthenticationUnavailable(ILogger logger, string routeId, string reason);

    [LoggerMessage(4004, LogLevel.Information, "Client throttled after failed authentications on route '{RouteId}' for {RetryAfterSeconds} s.")]
    public static partial void Throttled(ILogger logger, string routeId, int retryAfterSeconds);

    [LoggerMessage(4005, LogLevel.Information, "On route '{RouteId}' policy '{Policy}' refused a credential ({Code}) and policy '{AcceptedBy}' accepted another; the refusal counts as a failed attempt.")]
    public static partial void RefusedBesideAccepted(ILogger logger, string routeId, string policy, string code, string acceptedBy);

    [LoggerMessage(4010, LogLevel.Information, "Signing keys of policy '{Policy}' loaded: {KeyCount} keys ({Trigger}).")]
    public static partial void KeysLoaded(ILogger logger, string policy, int keyCount, string trigger);

    [LoggerMessage(4011, LogLevel.Warning, "Fetching the signing keys of policy '{Policy}' failed ({ExceptionType}); {Keeping}.")]
    public static partial void KeyFetchFailed(ILogger logger, string policy, string exceptionType, string keeping);

    [LoggerMessage(4012, LogLevel.Debug, "Policy '{Policy}': unknown key id; the next refresh is allowed in {WaitSeconds:0.#} s.")]
    public static partial void UnknownKeyRefreshThrottled(ILogger logger, string policy, double waitSeconds);

    [LoggerMessage(4013, LogLevel.Warning, "The key set of policy '{Policy}' holds no usable signing key; {Effect} ({Trigger}).")]
    public static partial void NoUsableKeys(ILogger logger, string policy, string effect, string trigger);

    [LoggerMessage(4020, LogLevel.Warning, "The API key table could not be read ({ExceptionType}); {Action}.")]
    public static partial void ApiKeyStoreFailed(ILogger logger, string exceptionType, string action);

    [LoggerMessage(4021, LogLevel.Warning, "API key record '{KeyId}' in the key table is unusable and refused as an unknown key: {Problem}")]
    public static partial void ApiKeyRecordUnusable(ILogger logger, string keyId, string problem);

    [LoggerMessage(4030, LogLevel.Warning, "Basic authentication is saturated: a password check waited too long on policy '{Policy}'.")]
    public static partial void BasicSaturated(ILogger logger, string policy);
}
