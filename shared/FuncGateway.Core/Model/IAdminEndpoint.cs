using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>
/// An admin endpoint a capability adds under <c>/_gateway/</c>, behind the admin key like the built-in ones
/// (the cache purge). The admin surface checks the key and the method before calling it.
/// </summary>
internal interface IAdminEndpoint
{
    /// <summary>The path below the admin prefix, lower case, e.g. <c>cache/purge</c>.</summary>
    string Name { get; }

    /// <summary>The one method it answers.</summary>
    string Method { get; }

    /// <summary>Every method it answers (by default the one <see cref="Method"/>).</summary>
    IReadOnlyList<string> Methods => [Method];

    /// <summary>
    /// True for an endpoint that answers the paths below its name and not its name itself (<c>pools</c> answers
    /// <c>pools/{pool}/instances/{id}</c>); it reads the rest from the request path, in its original case.
    /// </summary>
    bool ServesSubpaths => false;

    /// <summary>
    /// True for an endpoint that holds no data and is served without the admin key (still only while a key is
    /// configured): the dashboard's page and its script and style sheet, which a browser's navigation fetches without
    /// being able to send the key header.
    /// </summary>
    bool AllowsAnonymous => false;

    /// <summary>
    /// True for an endpoint with credentials of its own (registration keys): it is served to them even when no admin
    /// key is configured.
    /// </summary>
    bool HasOwnKeys => false;

    /// <summary>
    /// Whether the request's <c>X-Admin-Key</c>, which is not the admin key, is one of the endpoint's own credentials
    /// and allows this very request (method, path). Asked before the method check, so it must check the method itself.
    /// </summary>
    bool AllowsOwnKey(HttpRequest request, string key) => false;

    Task HandleAsync(HttpContext context);
}
