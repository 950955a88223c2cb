namespace FuncGateway.Bench;

/// <summary>
/// The upstream every contender ends at: a minimal Kestrel app answering any GET with the 2 bytes "ok". As cheap as
/// possible, so the differences between contenders are the proxies' own cost.
/// </summary>
internal static class BenchUpstream
{
    private static readonly ReadOnlyMemory<byte> Body = "ok"u8.ToArray();

    public static Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var portFile = options.Required("port-file");
        var app = LoopbackHost.CreateBuilder().Build();
        app.Run(static async context =>
        {
            if (HttpMethods.IsPost(context.Request.Method))
            {
                // --validation posts a JSON body: read it all, as a real upstream would, then answer as for a GET.
                await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            }
            else if (!HttpMethods.IsGet(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                return;
            }

            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = Body.Length;
            await context.Response.BodyWriter.WriteAsync(Body, context.RequestAborted);
        });
        return LoopbackHost.RunAsync(app, portFile, cancellationToken);
    }
}
