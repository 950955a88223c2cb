using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>
/// A response a capability can serve in the upstream's place when forwarding fails, before the route's fallback and
/// the gateway's error response (the response cache's stale copy). Called only while the response has not started.
/// </summary>
internal interface IUpstreamFailureResponse
{
    /// <summary>Writes the response; false when it no longer can (then the usual failure handling runs).</summary>
    Task<bool> TryWriteAsync(HttpContext context);
}
