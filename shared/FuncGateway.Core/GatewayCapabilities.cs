using FuncGateway.Authentication;
using FuncGateway.Caching;
using FuncGateway.Composition;
using FuncGateway.Concurrency;
using FuncGateway.Configuration;
using FuncGateway.Cors;
using FuncGateway.Discovery;
using FuncGateway.FixedResponses;
using FuncGateway.Forwarding;
using FuncGateway.Health;
using FuncGateway.IpRules;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using FuncGateway.RateLimiting;
using FuncGateway.Resilience;
using FuncGateway.RouteGroups;
using FuncGateway.Transforms;
using FuncGateway.Validation;
using FuncGateway.Versioning;

namespace FuncGateway;

/// <summary>
/// The composition root's one list of capabilities. Their order is the order of their properties in registry files
/// and of their services in the container. A new capability is its own folder plus one line here.
/// </summary>
public static class GatewayCapabilities
{
    /// <summary>Every capability of the gateway.</summary>
    public static IReadOnlyList<IGatewayCapability> All { get; } =
    [
        new ForwardingCapability(),
        new LoadBalancingCapability(),
        new IpRulesCapability(),
        new AuthenticationCapability(),
        new RateLimitingCapability(),
        new ConcurrencyCapability(),
        new HealthCapability(),
        new ResilienceCapability(),
        new TransformsCapability(),
        new CorsCapability(),
        new CacheCapability(),
        new ValidationCapability(),
        new RouteGroupsCapability(),
        new VersioningCapability(),
        new FixedResponsesCapability(),
        new CompositionCapability(),
        new DiscoveryCapability(),
    ];

    /// <summary>The registry format with every capability's properties: what the loader, the CLI and export use.</summary>
    public static RegistrySerializer Serializer { get; } = new(All.SelectMany(static c => c.Properties));
}
