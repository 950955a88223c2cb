using FuncGateway.Model;

namespace FuncGateway.Authentication;

/// <summary>The route properties authentication owns. Policy names are resolved later, by <see cref="RouteAuthCompiler"/>.</summary>
public static class AuthProperties
{
    /// <summary>
    /// Authentication policy names (any one may accept the caller), or the single word <c>anonymous</c>. Required:
    /// a route is never anonymous by omission. A registry file may give one string or an array.
    /// </summary>
    public static RegistryProperty<IReadOnlyList<string>> Auth { get; } =
        RegistryProperties.Names(RegistryTable.Routes, "Auth", RouteAuthFormat.CheckAuth, new AuthListJsonConverter());

    /// <summary>Roles, scopes and claims the caller must have (403 otherwise). Null: authentication is enough.</summary>
    public static RegistryProperty<RouteAuthorization?> Authorization { get; } =
        RegistryProperties.Json<RouteAuthorization>(RegistryTable.Routes, "Authorization", RouteAuthFormat.ParseAuthorization, RouteAuthFormat.Serialize, RouteAuthFormat.JsonOptions);

    /// <summary>A query parameter that may carry the bearer token (e.g. <c>access_token</c> for WebSockets). Null: header only.</summary>
    public static RegistryProperty<string?> TokenQueryParameter { get; } = QueryParameter("TokenQueryParameter");

    /// <summary>A query parameter that may carry the API key. Null: header only.</summary>
    public static RegistryProperty<string?> ApiKeyQueryParameter { get; } = QueryParameter("ApiKeyQueryParameter");

    /// <summary>
    /// On an authenticated route, pass an <c>access_token</c> query parameter on to the upstream. False (default): it
    /// is removed from the forwarded URL, so a token never lands in an upstream's URL or logs by accident.
    /// </summary>
    public static RegistryProperty<bool> ForwardAccessTokenQuery { get; } = RegistryProperties.Flag(RegistryTable.Routes, "ForwardAccessTokenQuery");

    /// <summary>Every authentication property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Auth, Authorization, TokenQueryParameter, ApiKeyQueryParameter, ForwardAccessTokenQuery];

    private static RegistryProperty<string?> QueryParameter(string name) =>
        RegistryProperties.Text(RegistryTable.Routes, name, (value, errors) => RouteAuthFormat.CheckQueryParameter(name, value, errors));
}
