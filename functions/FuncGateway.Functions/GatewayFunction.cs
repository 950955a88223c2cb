using FuncGateway.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FuncGateway.Functions;

/// <summary>
/// The one HTTP function: every request the Functions host routes to this app is handed to the gateway core.
/// </summary>
public sealed class GatewayFunction
{
    /// <summary>The function's name in the host (metadata, logs, telemetry).</summary>
    public const string Name = "Gateway";

    private readonly GatewayPipeline _pipeline;

    public GatewayFunction(GatewayPipeline pipeline)
    {
        _pipeline = pipeline;
    }

    // No method list: the host then routes every method here, as FuncGateway.Server does, and the core decides (a
    // route's Methods, 405 with Allow). A list would make the host answer a bare 404 for any method not on it, so
    // routes for WebDAV (PROPFIND, MKCOL...), PURGE or QUERY would work on the server and never reach this function.
    [Function(Name)]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, Route = "{*path}")]
        HttpRequest req)
    {
        ArgumentNullException.ThrowIfNull(req);
        FunctionsPlumbingHeaders.RemoveFrom(req.Headers);

        // The core writes the whole response (it also observes HttpContext.RequestAborted). EmptyResult keeps the
        // worker from writing anything on top of it.
        await _pipeline.InvokeAsync(req.HttpContext);
        return new EmptyResult();
    }
}
