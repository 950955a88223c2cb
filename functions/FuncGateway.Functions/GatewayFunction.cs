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

    // Every standard method except CONNECT, which asks for a tunnel to host:port rather than for a resource; a
    // gateway that forwards requests to upstreams has nothing to do with it.
    [Function(Name)]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", "head", "options", "trace", Route = "{*path}")]
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
