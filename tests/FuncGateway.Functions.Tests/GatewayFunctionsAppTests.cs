using System.Text.Json;
using FuncGateway.Pipeline;
using FuncGateway.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
    public void With_the_sample_local_settings_every_gateway_service_resolves_and_every_option_validates()
    {
        // ValidateOnBuild skips factory registrations and options validation waits for start-up, which needs the
        // Functions host: a factory or an option that throws would surface only at the first request or at start in
        // Azure. So: the Values of local.settings.sample.json (what `func start` reads, the same names as app
        // settings), every FuncGateway registration resolved in an invocation scope, and the start-up validation run.
        var values = JsonDocument.Parse(File.ReadAllText(RepositoryRoot.Combine("local.settings.sample.json"))).RootElement.GetProperty("Values");
        var settings = values.EnumerateObject().Select(v => $"--{v.Name.Replace("__", ":", StringComparison.Ordinal)}={v.Value.GetString()}")
            .Append("--Functions:Worker:HostEndpoint=http://127.0.0.1:1") // the worker's own services need to know the host; nothing connects
            .ToArray();
        IServiceCollection? services = null;
        using var host = FunctionsAppHost.Build(settings, builder => services = builder.Services);

        var failures = new List<string>();
        foreach (var descriptor in services!.Where(IsGateways))
        {
            using var invocation = host.Services.CreateScope();
            try
            {
                _ = descriptor.IsKeyedService
                    ? invocation.ServiceProvider.GetRequiredKeyedService(descriptor.ServiceType, descriptor.ServiceKey)
                    : invocation.ServiceProvider.GetServices(descriptor.ServiceType).ToList();
            }
            catch (InvalidOperationException ex)
            {
                failures.Add($"{descriptor.ServiceType}: {ex.Message}");
            }
        }

        host.Services.GetRequiredService<IStartupValidator>().Validate();
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static bool IsGateways(ServiceDescriptor descriptor) =>
        !descriptor.ServiceType.ContainsGenericParameters
        && new[] { descriptor.ServiceType, descriptor.IsKeyedService ? descriptor.KeyedImplementationType : descriptor.ImplementationType, descriptor.IsKeyedService ? null : descriptor.ImplementationFactory?.Method.DeclaringType }
            .Any(static type => type?.Namespace?.StartsWith("FuncGateway", StringComparison.Ordinal) == true);

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
