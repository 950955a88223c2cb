using Microsoft.AspNetCore.Cors.Infrastructure;

namespace FuncGateway.Cors;

/// <summary>
/// A validated CORS policy: ASP.NET Core's <see cref="CorsPolicy"/>, which <see cref="ICorsService"/> evaluates, plus
/// the one rule it does not know (the opaque origin <c>null</c> is admitted only when listed literally, never by <c>*</c>).
/// </summary>
internal sealed class GatewayCorsPolicy
{
    public const string NullOrigin = "null";

    internal GatewayCorsPolicy(string name, CorsPolicy policy)
    {
        Name = name;
        Policy = policy;
    }

    public string Name { get; }

    public CorsPolicy Policy { get; }

    /// <summary>Whether an evaluated request's origin may read the response.</summary>
    public bool Admits(CorsResult result, string? origin) =>
        result.IsOriginAllowed && IsSerializedOrigin(origin)
        && !(Policy.AllowAnyOrigin && string.Equals(origin, NullOrigin, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// An <c>Origin</c> as browsers send it (RFC 6454 §6.2): <c>null</c>, or <c>scheme://host[:port]</c> with nothing else
    /// — no user information, path, query or fragment, which a wildcard policy's subdomain match would otherwise echo.
    /// </summary>
    internal static bool IsSerializedOrigin(string? origin)
    {
        if (string.Equals(origin, NullOrigin, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (origin is null || !Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.UserInfo.Length > 0)
        {
            return false;
        }

        var authorityStart = origin.IndexOf("://", StringComparison.Ordinal);
        return authorityStart > 0 && origin.AsSpan(authorityStart + 3).IndexOfAny("/?#@\\") < 0;
    }
}
