using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace FuncGateway.Bench;

/// <summary>
/// Common set-up of the benchmark's own Kestrel apps: loopback only, a port chosen by the OS (no race with other
/// runs), written to a file once listening so the script knows where to send load.
/// </summary>
internal static class LoopbackHost
{
    public static WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(static kestrel => kestrel.AddServerHeader = false);

        // What `dotnet new web` ships for Microsoft.AspNetCore ("Warning"), applied to everything: no per-request log
        // line in the baseline, errors still printed.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        return builder;
    }

    /// <summary>Starts the app, publishes its port, and runs until Ctrl+C/SIGTERM or <paramref name="cancellationToken"/>.</summary>
    public static async Task<int> RunAsync(WebApplication app, string portFile, CancellationToken cancellationToken)
    {
        await app.StartAsync(cancellationToken);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

        // Write then rename, so the script never reads a half-written file.
        var temporary = portFile + ".tmp";
        await File.WriteAllTextAsync(temporary, address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        File.Move(temporary, portFile, overwrite: true);

        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }
}
