using Microsoft.AspNetCore.Http;

namespace FuncGateway.Functions;

/// <summary>
/// Request headers that exist only because the request came through the Functions host and the worker's ASP.NET
/// Core integration. They say nothing about the client, and an upstream behind <c>FuncGateway.Server</c> never sees
/// them, so the function removes them before the core forwards the request.
/// </summary>
internal static class FunctionsPlumbingHeaders
{
    /// <summary>
    /// <c>x-ms-invocation-id</c>: the host pairs the forwarded request with its gRPC invocation by it (consumed before
    /// the function runs). <c>X-Original-For/-Proto/-Host</c>: the values the worker's forwarded-headers middleware
    /// replaced, i.e. the host's loopback address and port, <c>http</c> and <c>localhost:port</c>.
    /// </summary>
    public static readonly IReadOnlyList<string> Names = ["x-ms-invocation-id", "X-Original-For", "X-Original-Proto", "X-Original-Host"];

    public static void RemoveFrom(IHeaderDictionary headers)
    {
        foreach (var name in Names)
        {
            headers.Remove(name);
        }
    }
}
