using System.Text.Json;
using FuncGateway.Discovery;
using FuncGateway.Discovery.Consul;
using FuncGateway.Discovery.Kubernetes;
using FuncGateway.Model;
using FuncGateway.Testing.Discovery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FuncGateway.Core.Tests.Discovery;

/// <summary>
/// A pool's <c>Discovery</c> JSON is checked when the snapshot is built: every problem is one clear error (which
/// quarantines the pool row), and the settings of both sources are checked at start-up.
/// </summary>
public sealed class DiscoverySourceFactoryTests
{
    [Fact]
    public void A_valid_consul_specification_makes_a_source_and_every_problem_of_a_bad_one_is_reported()
    {
        using var factory = ConsulFactory();

        Assert.NotNull(Create(factory, """{"Source":"consul","Service":"orders","Scheme":"https","Tag":"v2","Datacenter":"dc1"}""", out var none));
        Assert.Empty(none);
        Assert.NotNull(Create(factory, """{"Source":"Consul","Service":"orders"}""", out _));

        Assert.Null(Create(factory, """{"Source":"consul","Servce":"orders","Scheme":"ftp","Tag":3}""", out var errors));
        Assert.Equal(
        [
            "Discovery (consul): 'Servce' is not a known field. Known: Source, Service, Scheme, Tag, Datacenter.",
            "Discovery (consul): 'Service' is required.",
            "Discovery (consul): 'Scheme' must be 'http' or 'https', not 'ftp'.",
            "Discovery (consul): 'Tag' must be a non-empty string.",
        ], errors);

        Assert.Null(Create(factory, """["orders"]""", out errors));
        Assert.Equal(["Discovery (consul): must be a JSON object, not Array."], errors);
    }

    [Fact]
    public void A_kubernetes_specification_needs_dns_label_names_and_a_configured_api_server()
    {
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"fgw-kubeconfig-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(kubeconfig, FakeKubernetesApi.Kubeconfig(FuncGateway.Testing.LoopbackPorts.GetRefusing(), "t"));
        try
        {
            using var factory = KubernetesFactory(kubeconfig);
            Assert.NotNull(Create(factory, """{"Source":"kubernetes","Namespace":"shop","Service":"orders","PortName":"http","Scheme":"http"}""", out var none));
            Assert.Empty(none);
            Assert.NotNull(Create(factory, """{"Source":"kubernetes","Namespace":"shop","Service":"orders"}""", out _));

            Assert.Null(Create(factory, """{"Source":"kubernetes","Service":"Orders_1","PortName":"","Port":80}""", out var errors));
            Assert.Equal(
            [
                "Discovery (kubernetes): 'Port' is not a known field. Known: Source, Namespace, Service, PortName, Scheme.",
                "Discovery (kubernetes): 'Namespace' is required.",
                "Discovery (kubernetes): 'Service' must be a DNS label (lower-case letters, digits and '-', at most 63 characters), not 'Orders_1'.",
                "Discovery (kubernetes): 'PortName' must be a non-empty string.",
            ], errors);
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    [Fact]
    public void Without_a_kubeconfig_outside_a_cluster_or_with_a_missing_file_the_pool_is_rejected_with_the_reason()
    {
        Assert.False(k8s.KubernetesClientConfiguration.IsInCluster());
        const string Specification = """{"Source":"kubernetes","Namespace":"shop","Service":"orders"}""";

        using (var factory = KubernetesFactory(null))
        {
            Assert.Null(Create(factory, Specification, out var errors));
            Assert.Contains("no Kubernetes API server is configured: set FuncGateway:Discovery:Kubernetes:Kubeconfig", Assert.Single(errors), StringComparison.Ordinal);
        }

        using (var factory = KubernetesFactory("/nonexistent/kubeconfig.yaml"))
        {
            Assert.Null(Create(factory, Specification, out var errors));
            Assert.Contains("could not be configured from kubeconfig '/nonexistent/kubeconfig.yaml'", Assert.Single(errors), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_gateway_registers_both_factories_and_accepts_their_settings()
    {
        using var provider = Gateway(
            ("FuncGateway:Discovery:Consul:Address", "http://consul.internal:8500"),
            ("FuncGateway:Discovery:Consul:Token", "acl"),
            ("FuncGateway:Discovery:Consul:WaitSeconds", "10"),
            ("FuncGateway:Discovery:Kubernetes:Kubeconfig", "/etc/kube/config"),
            ("FuncGateway:Discovery:Kubernetes:Context", "prod"));

        // Next to the framework's own kinds (dns, srv, registration).
        Assert.Equal(["consul", "dns", "kubernetes", "registration", "srv"], provider.GetServices<IDiscoverySourceFactory>().Select(static f => f.Kind).Order(StringComparer.Ordinal));
        Assert.NotNull(provider.GetRequiredService<IOptions<DiscoveryOptions>>().Value);
        Assert.Equal(10, provider.GetRequiredService<IOptions<ConsulDiscoveryOptions>>().Value.WaitSeconds);
        Assert.Equal("prod", provider.GetRequiredService<IOptions<KubernetesDiscoveryOptions>>().Value.Context);
        Assert.NotNull(provider.GetRequiredService<IOptions<GatewayOptions>>().Value);
    }

    [Fact]
    public void Mistyped_or_invalid_discovery_settings_stop_start_up_with_the_key()
    {
        using var provider = Gateway(
            ("FuncGateway:Discovery:Consul:Adress", "http://consul:8500"),
            ("FuncGateway:Discovery:Consul:WaitSeconds", "0"),
            ("FuncGateway:Discovery:Kubernetes:Context", "prod"),
            ("FuncGateway:Discovery:Eureka:Url", "http://eureka"));

        var consul = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ConsulDiscoveryOptions>>().Value);
        Assert.Contains("FuncGateway:Discovery:Consul:Adress is not a known setting; did you mean Address?", consul.Failures);
        Assert.Contains(consul.Failures, static f => f.Contains("WaitSeconds", StringComparison.Ordinal));
        var kubernetes = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<KubernetesDiscoveryOptions>>().Value);
        Assert.Equal(["FuncGateway:Discovery:Kubernetes:Context needs FuncGateway:Discovery:Kubernetes:Kubeconfig (the in-cluster service account has no contexts)."], kubernetes.Failures);
        // The Discovery section belongs to the framework's options: an unknown source section is reported there.
        var discovery = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DiscoveryOptions>>().Value);
        var unknown = Assert.Single(discovery.Failures);
        Assert.StartsWith("FuncGateway:Discovery:Eureka is not a known setting. Known: ", unknown, StringComparison.Ordinal);
        foreach (var known in new[] { "Consul", "Kubernetes", "Dns", "Registration" })
        {
            Assert.Contains(known, unknown, StringComparison.Ordinal);
        }

        Assert.NotNull(provider.GetRequiredService<IOptions<GatewayOptions>>().Value);
    }

    [Theory]
    [InlineData("consul:8500")]
    [InlineData("ftp://consul:8500")]
    [InlineData("http://consul:8500/?x=1")]
    public void A_consul_address_must_be_an_absolute_http_url(string address)
    {
        using var provider = Gateway(("FuncGateway:Discovery:Consul:Address", address));

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ConsulDiscoveryOptions>>().Value);
        Assert.Equal(["FuncGateway:Discovery:Consul:Address must be an absolute http:// or https:// URL without query or fragment."], error.Failures);
    }

    private static IDiscoverySource? Create(IDiscoverySourceFactory factory, string json, out List<string> errors)
    {
        errors = [];
        using var document = JsonDocument.Parse(json);
        return factory.Create("orders-pool", document.RootElement.Clone(), errors);
    }

    private static ConsulDiscoverySourceFactory ConsulFactory() =>
        new(Options.Create(new ConsulDiscoveryOptions()), TimeProvider.System, NullLogger<ConsulDiscoverySource>.Instance);

    private static KubernetesDiscoverySourceFactory KubernetesFactory(string? kubeconfig) =>
        new(Options.Create(new KubernetesDiscoveryOptions { Kubeconfig = kubeconfig }), TimeProvider.System, NullLogger<KubernetesDiscoverySource>.Instance);

    private static ServiceProvider Gateway(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([KeyValuePair.Create("FuncGateway:Storage:ConnectionString", (string?)"UseDevelopmentStorage=true"), .. settings.Select(static s => KeyValuePair.Create(s.Key, (string?)s.Value))])
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddFuncGateway(configuration);
        return services.BuildServiceProvider();
    }
}
