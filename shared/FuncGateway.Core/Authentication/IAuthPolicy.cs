using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Authentication;

/// <summary>
/// One configured authentication policy. Built once at start-up and shared by every route that names it: finding
/// the credential is synchronous and allocation-light; checking it may do I/O (a key set fetch, a table read).
/// </summary>
internal interface IAuthPolicy
{
    /// <summary>The policy's name, as routes write it.</summary>
    string Name { get; }

    /// <summary>The kind of policy.</summary>
    AuthPolicyType Type { get; }

    /// <summary>Looks for this policy's kind of credential on the request.</summary>
    CredentialLookup FindCredential(HttpRequest request, RouteAuth route);

    /// <summary>Checks a credential <see cref="FindCredential"/> found.</summary>
    ValueTask<AuthAttempt> AuthenticateAsync(string credential, CancellationToken cancellationToken);

    /// <summary>The <c>WWW-Authenticate</c> challenge, with an RFC 6750 error code where the scheme has them.</summary>
    string Challenge(string? error = null, string? description = null);
}

/// <summary>Where a credential was found.</summary>
internal enum CredentialSource
{
    None,
    AuthorizationHeader,
    Header,
    Query,
}

/// <summary>The result of looking for a credential: none, one, or a malformed request (two of them, an empty one).</summary>
internal readonly record struct CredentialLookup(CredentialSource Source, string? Credential, string? Malformed)
{
    public static CredentialLookup None => default;

    public static CredentialLookup Found(CredentialSource source, string credential) => new(source, credential, null);

    public static CredentialLookup Bad(string reason) => new(CredentialSource.None, null, reason);
}

/// <summary>How a credential check ended.</summary>
internal enum AuthOutcome
{
    Success,
    Invalid,
    Unavailable,
}

/// <summary>The result of checking one credential. Descriptions are our own words: never a token, a key or a library message.</summary>
internal sealed record AuthAttempt(AuthOutcome Outcome, GatewayIdentity? Caller, string? Code, string? Description)
{
    public static AuthAttempt Success(GatewayIdentity caller) => new(AuthOutcome.Success, caller, null, null);

    public static AuthAttempt Invalid(string code, string description) => new(AuthOutcome.Invalid, null, code, description);

    public static AuthAttempt Unavailable(string description) => new(AuthOutcome.Unavailable, null, AuthProblemCodes.AuthUnavailable, description);
}
