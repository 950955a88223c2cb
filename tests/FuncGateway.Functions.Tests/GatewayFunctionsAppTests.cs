using FuncGateway.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Functions.Tests;

/// <summary>The worker's service graph, built as in production with every registration validated.</summary>
public sealed class GatewayFunctionsAppTests
{
    private const string Loopback = "127.0.0.0/8,::1";

    [Fact]
    public void The_worker_host_builds_and_provides_the_gateway_pipeline()
    {
        using var host = FunctionsAppHost.Build();

        Assert.NotNull(host.Services.GetRequiredService<GatewayPipeline>());
    }

    [Fact]
    public void The_gateway_function_can_be_created_for_an_invocation()
    {
        using var host = FunctionsAppHost.Build();
        using var invocation = host.Services.CreateScope();

        // The worker's default activator creates function classes this way, from the invocation's scope.
        var function = ActivatorUtilities.CreateInstance<GatewayFunction>(invocation.ServiceProvider);

        Assert.NotNull(function);
    }

    [Fact]
    public void The_core_trusts_the_loopback_host_as_a_proxy_by_default()
    {
        using var host = FunctionsAppHost.Build();

        var configuration = host.Services.GetRequiredService<IConfiguration>();

        Assert.Equal(Loopback, configuration[GatewayFunctionsApp.TrustedProxiesKey]);
    }

    [Fact]
    public void A_configured_trusted_proxy_list_replaces_the_default()
    {
        // Command-line arguments stand in for the app settings and environment variables that exist before
        // ConfigureServices runs.
        using var host = FunctionsAppHost.Build([$"--{GatewayFunctionsApp.TrustedProxiesKey}=10.0.0.0/8"]);

        var configuration = host.Services.GetRequiredService<IConfiguration>();

        Assert.Equal("10.0.0.0/8", configuration[GatewayFunctionsApp.TrustedProxiesKey]);
    }

    [Fact]
    public void A_trusted_proxy_list_from_a_source_added_later_replaces_the_default()
    {
        using var host = FunctionsAppHost.Build(afterConfigureServices: builder =>
            builder.Configuration.AddInMemoryCollection([new(GatewayFunctionsApp.TrustedProxiesKey, "192.0.2.10")]));

        var configuration = host.Services.GetRequiredService<IConfiguration>();

        Assert.Equal("192.0.2.10", configuration[GatewayFunctionsApp.TrustedProxiesKey]);
    }
}
