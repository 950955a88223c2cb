using FuncGateway.Discovery.Consul;
using FuncGateway.Discovery.Kubernetes;
using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncGateway.Discovery;

/// <summary>Registers the Consul and Kubernetes discovery sources (docs/discovery-consul-kubernetes.md).</summary>
public static class ConsulKubernetesDiscoveryServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <c>consul</c> and <c>kubernetes</c> <see cref="IDiscoverySourceFactory"/> implementations, with their
    /// settings bound from <c>FuncGateway:Discovery:Consul</c> and <c>FuncGateway:Discovery:Kubernetes</c> and checked at
    /// start (an unknown key or a bad value stops start-up).
    /// </summary>
    public static IServiceCollection AddConsulAndKubernetesDiscovery(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(static d => d.ServiceType == typeof(IDiscoverySourceFactory) && d.ImplementationType == typeof(ConsulDiscoverySourceFactory)))
        {
            return services;
        }

        services.AddOptions<ConsulDiscoveryOptions>()
            .BindKnownSettings(configuration.GetSection(ConsulDiscoveryOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(static o => IsHttpUrl(o.Address), $"{ConsulDiscoveryOptions.SectionName}:Address must be an absolute http:// or https:// URL without query or fragment.")
            .ValidateOnStart();
        services.AddOptions<KubernetesDiscoveryOptions>()
            .BindKnownSettings(configuration.GetSection(KubernetesDiscoveryOptions.SectionName))
            .Validate(static o => string.IsNullOrEmpty(o.Context) || !string.IsNullOrEmpty(o.Kubeconfig), $"{KubernetesDiscoveryOptions.SectionName}:Context needs {KubernetesDiscoveryOptions.SectionName}:Kubeconfig (the in-cluster service account has no contexts).")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IDiscoverySourceFactory, ConsulDiscoverySourceFactory>();
        services.AddSingleton<IDiscoverySourceFactory, KubernetesDiscoverySourceFactory>();
        return services;
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment) && string.IsNullOrEmpty(uri.UserInfo);
}
