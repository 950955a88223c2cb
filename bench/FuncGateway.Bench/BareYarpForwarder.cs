using System.Diagnostics;
using System.Net;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Bench;

/// <summary>
/// The baseline: what a user would build by hand with YARP's direct forwarding — every request straight to one
/// upstream through <see cref="IHttpForwarder"/>, no routing, no transforms beyond <see cref="HttpTransformer.Default"/>,
/// over one long-lived <see cref="SocketsHttpHandler"/> configured as YARP's direct-forwarding docs and sample do.
/// </summary>
internal static class BareYarpForwarder
{
    public static Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var portFile = options.Required("port-file");
        var upstream = options.AbsoluteHttpUri("upstream").GetLeftPart(UriPartial.Authority);

        var builder = LoopbackHost.CreateBuilder();
        builder.Services.AddHttpForwarder();
        var app = builder.Build();

#pragma warning disable CA2000 // Lives as long as the process, like in YARP's sample.
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = TimeSpan.FromSeconds(15),
        });
#pragma warning restore CA2000
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();

        // An async lambda returning Task, not the ForwarderError (minimal APIs would write the enum into the response).
        app.Run(async context =>
        {
            var error = await forwarder.SendAsync(context, upstream, invoker, ForwarderRequestConfig.Empty, HttpTransformer.Default);
            if (error != ForwarderError.None && !context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
            }
        });
        return LoopbackHost.RunAsync(app, portFile, cancellationToken);
    }
}
