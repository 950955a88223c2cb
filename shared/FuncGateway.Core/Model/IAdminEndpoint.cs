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

    /// <summary>
    /// True for an endpoint that holds no data and is served without the admin key (still only while a key is
    /// configured): the dashboard's page and its script and style sheet, which a browser's navigation fetches without
    /// being able to send the key header.
    /// </summary>
    bool AllowsAnonymous => false;

    Task HandleAsync(HttpContext context);
}
