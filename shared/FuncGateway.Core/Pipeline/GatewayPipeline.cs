using Microsoft.AspNetCore.Http;

namespace FuncGateway.Pipeline;

/// <summary>The one entry point both hosts call for every request.</summary>
public sealed class GatewayPipeline
{
    /// <summary>Handles one request end to end: resolve, forward, or answer with a problem response.</summary>
#pragma warning disable CA1822 // becomes stateful as soon as the pipeline has steps
    public Task InvokeAsync(HttpContext context)
#pragma warning restore CA1822
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        return Task.CompletedTask;
    }
}
