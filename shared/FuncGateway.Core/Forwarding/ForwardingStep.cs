using FuncGateway.Diagnostics;
using FuncGateway.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Forwarding;

/// <summary>
/// The last step: picks an instance and streams the request to it through YARP's forwarder on the one pooled
/// client. Transport failures become 502, timeouts 504; a response that has started is never rewritten.
/// </summary>
internal sealed class ForwardingStep : IDisposable
{
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _client;
    private readonly ILogger<ForwardingStep> _logger;
    private readonly long _maxRequestBodySize;

    public ForwardingStep(IHttpForwarder forwarder, GatewayHttpClientFactory clientFactory, IOptions<GatewayOptions> options, ILogger<ForwardingStep> logger)
    {
        _forwarder = forwarder;
        _client = clientFactory.CreateClient();
        _logger = logger;
        _maxRequestBodySize = options.Value.Forwarding.MaxRequestBodySizeBytes;
    }

    public async Task ForwardAsync(HttpContext context, GatewayRequestFeature feature)
    {
        // Refuse an announced oversized body before touching the upstream; a chunked one is cut by the server's limit.
        if (context.Request.ContentLength > _maxRequestBodySize)
        {
            await TooLargeAsync(context);
            return;
        }

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = _maxRequestBodySize;
        }

        var route = feature.Route;
        var pool = route.Pool;
        var instance = pool.Policy.PickInstance(context, pool, pool.Instances);
        if (instance is null)
        {
            await GatewayProblem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ProblemCodes.NoUpstreamAvailable,
                "No upstream instance is available for this route.", null, new("Retry-After", "5"));
            return;
        }

        feature.Instance = instance;
        var error = await _forwarder.SendAsync(context, instance.Url, _client, route.RequestConfig, GatewayHttpTransformer.Instance);
        if (error != ForwarderError.None)
        {
            await HandleErrorAsync(context, route.Definition.Id, instance.Url, error);
        }
    }

    private async Task HandleErrorAsync(HttpContext context, string routeId, string destination, ForwarderError error)
    {
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (context.RequestAborted.IsCancellationRequested || error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
            or ForwarderError.ResponseBodyCanceled or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled)
        {
            Log.ClientAborted(_logger, routeId, error.ToString());
            return;
        }

        if (context.Response.HasStarted)
        {
            // The upstream's status and headers are already with the client: all that is left is to end the stream.
            Log.ForwardingFailedAfterStart(_logger, routeId, error.ToString(), exception);
            return;
        }

        if (error == ForwarderError.RequestBodyClient)
        {
            if (exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                || exception?.InnerException is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                await TooLargeAsync(context);
                return;
            }

            Log.ClientAborted(_logger, routeId, error.ToString());
            await GatewayProblem.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.BadRequest,
                "The request body could not be read from the client.");
            return;
        }

        var (status, code, title) = error switch
        {
            ForwarderError.RequestTimedOut => (StatusCodes.Status504GatewayTimeout, ProblemCodes.UpstreamTimeout, "The upstream did not answer in time."),
            ForwarderError.Request => (StatusCodes.Status502BadGateway, ProblemCodes.UpstreamUnreachable, "The upstream could not be reached."),
            _ => (StatusCodes.Status502BadGateway, ProblemCodes.UpstreamError, "The upstream failed to handle the request."),
        };
        Log.ForwardingFailed(_logger, routeId, destination, error.ToString(), status, exception);
        await GatewayProblem.WriteAsync(context, status, code, title);
    }

    private Task TooLargeAsync(HttpContext context) =>
        GatewayProblem.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, ProblemCodes.RequestTooLarge,
            "The request body is too large.", $"The limit is {_maxRequestBodySize} bytes.");

    public void Dispose() => _client.Dispose();
}
