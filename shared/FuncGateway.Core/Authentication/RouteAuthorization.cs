using System.Text.Json.Serialization;

namespace FuncGateway.Authentication;

/// <summary>
/// What an authenticated caller must have for a route (the route's <c>Authorization</c> property):
/// <c>{"roles":["admin","ops"],"scopes":["orders.read"],"claims":{"tenant":["a","b"]}}</c>. Within each list any
/// one value is enough; every kind that is given must hold (roles and scopes and each claim).
/// </summary>
public sealed record RouteAuthorization
{
    /// <summary>The caller needs at least one of these roles.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The caller needs at least one of these scopes.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>For each claim type, the caller needs one of the listed values.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Claims { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>True when nothing is required.</summary>
    [JsonIgnore]
    public bool IsEmpty => Roles.Count == 0 && Scopes.Count == 0 && Claims.Count == 0;
}
