using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FuncGateway.Functions.Tests;

/// <summary>
/// Builds the worker host the way <c>Program.cs</c> does, without running it (running needs the Functions host).
/// </summary>
/// <remarks>
/// One difference remains: at run time the worker also registers the source-generated function executor and
/// metadata provider, which it finds by scanning the entry assembly; here the entry assembly is the test host.
/// </remarks>
internal static class FunctionsAppHost
{
    public static IHost Build(string[]? args = null, Action<FunctionsApplicationBuilder>? afterConfigureServices = null)
    {
        var builder = FunctionsApplication.CreateBuilder(args ?? []);
        builder.ConfigureFunctionsWebApplication();
        GatewayFunctionsApp.ConfigureServices(builder);
        afterConfigureServices?.Invoke(builder);

        builder.ConfigureContainer(new DefaultServiceProviderFactory(new ServiceProviderOptions
        {
            ValidateOnBuild = true,
            ValidateScopes = true,
        }));

        return builder.Build();
    }
}
