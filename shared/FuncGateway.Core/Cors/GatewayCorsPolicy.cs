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
        result.IsOriginAllowed && !(Policy.AllowAnyOrigin && string.Equals(origin, NullOrigin, StringComparison.OrdinalIgnoreCase));
}
