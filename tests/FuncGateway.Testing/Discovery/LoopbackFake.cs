using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Testing.Discovery;

/// <summary>
/// A protocol fake on <c>http://127.0.0.1:{port}</c> (real Kestrel) that can be stopped and started again on the same
/// port, so a client sees the server go away (connections refused) and come back.
/// </summary>
public abstract class LoopbackFake : IAsyncDisposable
{
    private WebApplication? _app;
    private CancellationTokenSource _stopping = new();

    public int Port { get; private set; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// <summary>Cancelled when the fake stops: handlers holding a request (blocking query, watch) abort it.</summary>
    protected CancellationToken Stopping => _stopping.Token;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, Port));
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(static host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        Map(app);
        _stopping = new CancellationTokenSource();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Port = new Uri(address).Port;
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await _stopping.CancelAsync();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    protected abstract void Map(WebApplication app);
}
