using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Backend;

/// <summary>
/// Refuses requests that do not carry a valid, fresh gateway signature (401 problem+json with code
/// <c>gateway_signature_missing</c>, <c>_stale</c>, <c>_unknown_key</c> or <c>_invalid</c>), and makes the verified
/// context available as <see cref="GatewayUserContext"/> (a request feature) and as <c>HttpContext.User</c>.
/// </summary>
public sealed partial class GatewaySignatureMiddleware
{
    private readonly RequestDelegate _next;
    private readonly GatewaySignatureVerifier _verifier;
    private readonly HashSet<string> _unsigned;
    private readonly ILogger<GatewaySignatureMiddleware> _logger;

    /// <summary>Creates the middleware.</summary>
    public GatewaySignatureMiddleware(RequestDelegate next, GatewaySignatureVerifier verifier, IOptions<GatewaySignatureOptions> options, ILogger<GatewaySignatureMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _next = next;
        _verifier = verifier;
        _unsigned = new HashSet<string>(options.Value.UnsignedPaths, StringComparer.OrdinalIgnoreCase);
        _logger = logger;
    }

    /// <summary>Verifies, then calls the rest of the pipeline or answers 401.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_unsigned.Contains(context.Request.Path.Value ?? ""))
        {
            await _next(context);
            return;
        }

        var failure = _verifier.Verify(context.Request);
        if (failure != GatewaySignatureFailure.None)
        {
            var code = failure switch
            {
                GatewaySignatureFailure.Missing => "gateway_signature_missing",
                GatewaySignatureFailure.Stale => "gateway_signature_stale",
                GatewaySignatureFailure.UnknownKey => "gateway_signature_unknown_key",
                _ => "gateway_signature_invalid",
            };
            LogRefused(_logger, context.Request.Method, failure);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.ContentType = "application/problem+json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["type"] = "urn:funcgateway:problem:" + code,
                ["title"] = "The request does not carry a valid gateway signature.",
                ["status"] = 401,
                ["code"] = code,
            }), context.RequestAborted);
            return;
        }

        var user = GatewayUserContext.FromHeaders(context.Request.Headers);
        context.Features.Set(user);
        context.User = user.ToPrincipal();
        await _next(context);
    }

    [LoggerMessage(10, LogLevel.Warning, "Refused a {Method} request without a valid gateway signature: {Failure}.")]
    private static partial void LogRefused(ILogger logger, string method, GatewaySignatureFailure failure);
}
