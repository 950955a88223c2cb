using System.Net;
using FuncGateway.Samples.Echo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Testing;

/// <summary>
/// A real Kestrel server on <c>http://127.0.0.1:{free port}</c> for the gateway to forward to. By default every
/// request is answered by <see cref="EchoHandler"/>.
/// </summary>
public sealed class TestUpstream : IAsyncDisposable
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private int _requestCount;
    private int _stopped;
    private int _disposed;

    private TestUpstream(string name, WebApplication app)
    {
        Name = name;
        _app = app;
    }

    public string Name { get; }

    /// <summary>The address Kestrel actually bound, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Requests that reached this upstream (counted before any handler runs, whatever the answer).</summary>
    public int RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>
    /// Starts the upstream. <paramref name="configure"/> maps its endpoints (it may call
    /// <see cref="EchoHandler.HandleAsync"/> itself); when null, the echo handler answers every path and method.
    /// </summary>
    public static Task<TestUpstream> StartAsync(
        string name,
        Action<WebApplication>? configure = null,
        CancellationToken cancellationToken = default) => StartAsync(name, new IPEndPoint(IPAddress.Loopback, 0), configure, cancellationToken);

    /// <summary>Starts the upstream on <paramref name="endpoint"/> (another loopback address, a fixed port: what DNS tests publish).</summary>
    public static async Task<TestUpstream> StartAsync(
        string name,
        IPEndPoint endpoint,
        Action<WebApplication>? configure = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(TestUpstream).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(endpoint);
            kestrel.Limits.MaxRequestBodySize = null;
        });
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);

        var app = builder.Build();
        var upstream = new TestUpstream(name, app);
        app.Use((context, next) =>
        {
            Interlocked.Increment(ref upstream._requestCount);
            return next(context);
        });
        if (configure is null)
        {
            app.Run(context => EchoHandler.HandleAsync(context, name));
        }
        else
        {
            configure(app);
        }

        try
        {
            await app.StartAsync(cancellationToken);
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
                .Addresses.First();
            upstream.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
            return upstream;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops listening (connections are refused afterwards); in-flight requests get a few seconds to finish.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await StopAsync();
            await _app.DisposeAsync();
        }
    }
}
