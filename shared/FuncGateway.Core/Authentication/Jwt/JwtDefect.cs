using Microsoft.IdentityModel.Tokens;

namespace FuncGateway.Authentication.Jwt;

/// <summary>
/// A refusal by the gateway's own token checks (those IdentityModel does not make). The client sees the same generic
/// description as for its category; the precise reason is logged.
/// </summary>
internal enum JwtDefect
{
    None,
    NotBase64Url,
    NotJsonObject,
    DuplicateMember,
    NumericDateNotNumber,
    KidNotString,
    TypeNotAccepted,
    IssuedInFuture,
    LifetimeTooLong,
    RemainingLifetimeTooLong,
}

/// <summary>Log wording of each <see cref="JwtDefect"/>: what was wrong, never the values.</summary>
internal static class JwtDefects
{
    public static string Reason(JwtDefect defect) => defect switch
    {
        JwtDefect.NotBase64Url => "a segment is not canonical unpadded base64url, or the token does not have three segments",
        JwtDefect.NotJsonObject => "the header or payload is not one JSON object",
        JwtDefect.DuplicateMember => "the header or payload repeats a member name",
        JwtDefect.NumericDateNotNumber => "exp, nbf or iat is not a JSON number",
        JwtDefect.KidNotString => "kid is present but not a string",
        JwtDefect.TypeNotAccepted => "typ is missing or not one of RequireTyp",
        JwtDefect.IssuedInFuture => "iat is in the future beyond the clock skew",
        JwtDefect.LifetimeTooLong => "exp - iat exceeds MaxTokenLifetimeSeconds",
        JwtDefect.RemainingLifetimeTooLong => "exp is further away than MaxTokenLifetimeSeconds plus the clock skew",
        _ => "unspecified",
    };
}

/// <summary>Thrown by the policy's lifetime validator so the precise lifetime defect survives IdentityModel's result.</summary>
internal sealed class TokenLifetimeRefusedException(JwtDefect defect) : SecurityTokenInvalidLifetimeException(JwtDefects.Reason(defect))
{
    public JwtDefect Defect { get; } = defect;
}
