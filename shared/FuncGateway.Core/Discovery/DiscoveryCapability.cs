using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FuncGateway.Discovery;

/// <summary>
/// Service discovery (docs/discovery.md): a pool's <c>Discovery</c> property, the <c>dns</c>, <c>srv</c> and
/// <c>registration</c> sources, the registration admin API, and the service that turns new instance lists into new
/// snapshots. Every <see cref="IDiscoverySourceFactory"/> in the container is a source kind, so other capabilities
/// add kinds by registering theirs.
/// </summary>
public sealed class DiscoveryCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => DiscoveryProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DiscoveryOptions>()
            .BindKnownSettings(configuration.GetSection(DiscoveryOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(static o => DnsLookup.ParseServers(o.Dns.Servers, out _) is not null,
                "FuncGateway:Discovery:Dns:Servers must be a comma-separated list of IP addresses or address:port (e.g. 10.0.0.10, 10.0.0.10:53, [fd00::10]:53).")
            .Validate(static o => o.Dns.MinTtlSeconds <= o.Dns.MaxTtlSeconds, "FuncGateway:Discovery:Dns:MinTtlSeconds must not be larger than MaxTtlSeconds.")
            .Validate(static o => o.Registration.DefaultLeaseSeconds <= o.Registration.MaxLeaseSeconds,
                "FuncGateway:Discovery:Registration:DefaultLeaseSeconds must not be larger than MaxLeaseSeconds.")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<DiscoveryOptions>, RegistrationKeysValidator>();
        services.TryAddSingleton<RegistrationKeys>();
        services.TryAddSingleton<DnsLookup>();
        services.TryAddSingleton<RegistrationTable>();
        services.AddSingleton<IDiscoverySourceFactory, DnsDiscoverySourceFactory>();
        services.AddSingleton<IDiscoverySourceFactory, SrvDiscoverySourceFactory>();
        services.AddSingleton<IDiscoverySourceFactory, RegistrationDiscoverySourceFactory>();
        services.TryAddSingleton<DiscoveryPools>();
        services.AddSingleton<Configuration.ISnapshotPublishedListener>(static sp => sp.GetRequiredService<DiscoveryPools>());
        services.AddSingleton<IPoolFeatureCompiler, DiscoveryPoolCompiler>();
        services.AddHostedService<DiscoveryRefreshService>();
        services.AddSingleton<IAdminEndpoint, RegistrationEndpoint>();
    }
}
