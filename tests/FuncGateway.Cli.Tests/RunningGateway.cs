using FuncGateway.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Cli.Tests;

/// <summary>A real FuncGateway server on 127.0.0.1 reading the tables a <see cref="CliHarness"/> writes.</summary>
internal sealed record RunningGateway(WebApplication App, Uri Address) : IAsyncDisposable
{
    public static async Task<RunningGateway> StartAsync(CliHarness cli, params (string Key, string Value)[] settings)
    {
        var app = GatewayServer.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            var config = new Dictionary<string, string?>
            {
                ["FuncGateway:Storage:ConnectionString"] = cli.ConnectionString,
                ["FuncGateway:Storage:TablePrefix"] = cli.Prefix,
                ["FuncGateway:Registry:StartupWaitSeconds"] = "10",
            };
            foreach (var (key, value) in settings)
            {
                config[key] = value;
            }

            builder.Configuration.AddInMemoryCollection(config);
            builder.Logging.ClearProviders();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningGateway(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
