using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Functions.EndToEnd.Tests.Host;

/// <summary>
/// What the Functions host does with an HTTP request for a worker that uses the ASP.NET Core integration: the
/// request is matched to the HTTP function by its route, gets an invocation id, is forwarded (YARP, default
/// transformer) to the HTTP listener the worker reported in its <c>HttpUri</c> capability with that id in
/// <c>x-ms-invocation-id</c>, and the matching <c>InvocationRequest</c> goes over gRPC. The worker pairs the two by the
/// id, runs the function, and its response streams back through the forwarder to the client.
/// </summary>
/// <remarks>
/// Modelled on <c>GrpcWorkerChannel.SendInvocationRequest</c>, <c>DefaultHttpProxyService</c> and
/// <c>RetryProxyHandler</c> in Azure/azure-functions-host: forwarding starts before the invocation is sent, and a
/// connection to the worker that fails is retried up to 10 times (50 ms doubling to 250 ms).
/// </remarks>
internal sealed class HttpFrontDoor : IAsyncDisposable
{
    /// <summary>The header that pairs the forwarded request with its invocation (ScriptConstants.HttpProxyCorrelationHeader).</summary>
    public const string InvocationIdHeader = "x-ms-invocation-id";

    /// <summary>ScriptConstants.DefaultMaxRequestBodySize: the platform's 100 MB request limit.</summary>
    private const long MaxRequestBodySize = 104_857_600;

    private static readonly TimeSpan ActivityTimeout = TimeSpan.FromSeconds(240);

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<InvocationRecord> _invocations;

    private HttpFrontDoor(WebApplication app, Uri address, ConcurrentQueue<InvocationRecord> invocations)
    {
        _app = app;
        BaseAddress = address;
        _invocations = invocations;
    }

    public Uri BaseAddress { get; }

    /// <summary>Every HTTP invocation this host made, in order of completion.</summary>
    public IReadOnlyCollection<InvocationRecord> Invocations => _invocations;

    public static async Task<HttpFrontDoor> StartAsync(WorkerChannel channel, Uri workerHttpUri, HttpFunction function)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodySize;
        });
        builder.Logging.ClearProviders();
        builder.Services.AddHttpForwarder();
        builder.Services.AddRouting();

        var app = builder.Build();
        var invocations = new ConcurrentQueue<InvocationRecord>();
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var invoker = new HttpMessageInvoker(new RetryProxyHandler(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }));
        var config = new ForwarderRequestConfig { ActivityTimeout = ActivityTimeout };
        var destination = workerHttpUri.ToString();

        RequestDelegate invoke = async context =>
        {
            var invocationId = Guid.NewGuid().ToString();
            context.Request.Headers.TryAdd(InvocationIdHeader, invocationId);
            var answer = channel.Expect(WorkerChannel.InvocationKey(invocationId));

            var forwarding = forwarder.SendAsync(context, destination, invoker, config).AsTask();
            await channel.SendAsync(new StreamingMessage { InvocationRequest = NewInvocation(function, invocationId) });

            InvocationResponse? response = null;
            string? failure = null;
            try
            {
                response = (await answer.WaitAsync(ActivityTimeout)).InvocationResponse;
                if (response.Result.Status != StatusResult.Types.Status.Success)
                {
                    failure = $"{response.Result.Status}: {response.Result.Exception?.Message}";
                }
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                failure = ex.Message;
            }

            var error = await forwarding;
            if (error != ForwarderError.None)
            {
                failure ??= $"forwarding to the worker failed: {error} {context.GetForwarderErrorFeature()?.Exception?.Message}";
            }

            // The host fails the request when the invocation or the forwarding failed; what reaches the client then
            // depends on how far the response got.
            if (failure is not null && !context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }

            invocations.Enqueue(new InvocationRecord(function.Name, invocationId, context.Request.Method, context.Request.Path, failure));
        };

        if (function.Methods.Count == 0)
        {
            app.Map(function.RouteTemplate, invoke);
        }
        else
        {
            app.MapMethods(function.RouteTemplate, function.Methods, invoke);
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new HttpFrontDoor(app, new Uri(address.EndsWith('/') ? address : address + "/"), invocations);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // With the HttpUri capability the host sends the trigger input as an empty RpcHttp: the request itself travels
    // over HTTP. The worker also reports RpcHttpTriggerMetadataRemoved, so no "req" trigger metadata; the host would still
    // send Query, Headers and route values as trigger metadata, which this host leaves out (the function binds only
    // HttpRequest).
    private static InvocationRequest NewInvocation(HttpFunction function, string invocationId)
    {
        var request = new InvocationRequest
        {
            FunctionId = function.FunctionId,
            InvocationId = invocationId,
            TraceContext = new RpcTraceContext { TraceParent = Activity.Current?.Id ?? "", TraceState = "" },
        };
        request.InputData.Add(new ParameterBinding { Name = function.TriggerBindingName, Data = new TypedData { Http = new RpcHttp() } });
        return request;
    }

    /// <summary>Retries a failed connection to the worker, as the host's RetryProxyHandler does.</summary>
    private sealed class RetryProxyHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private const int MaxRetries = 10;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var delay = 50;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await base.SendAsync(request, cancellationToken);
                }
                catch (HttpRequestException) when (attempt < MaxRetries)
                {
                    await Task.Delay(delay, cancellationToken);
                    delay = Math.Min(delay * 2, 250);
                }
            }
        }
    }
}

/// <summary>The HTTP-triggered function as the host routes to it.</summary>
internal sealed record HttpFunction(string Name, string FunctionId, string TriggerBindingName, string RouteTemplate, IReadOnlyList<string> Methods);

/// <summary>One invocation the test host made, and why it failed (null when the worker reported success).</summary>
internal sealed record InvocationRecord(string FunctionName, string InvocationId, string Method, string Path, string? Failure);
