using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncGateway.RouteGroups;

/// <summary>
/// Route groups: one registry, several gateways. A route names its groups (<c>Groups</c>); a gateway with
/// <c>FuncGateway:Registry:Groups</c> serves only the routes of its groups. Registered once in <c>GatewayCapabilities</c>.
/// </summary>
public sealed class RouteGroupsCapability : IGatewayCapability
{
    /// <summary>The setting that names the gateway's groups.</summary>
    public const string GroupsKey = "FuncGateway:Registry:Groups";

    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => RouteGroupsProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IValidateOptions<GatewayOptions>, RouteGroupsOptionsValidator>();
        services.AddSingleton<IRouteFilter>(static sp =>
        {
            var groups = RouteGroupFilter.ParseSetting(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Registry.Groups, []);
            return groups.Count == 0 ? AllRoutes.Instance : new RouteGroupFilter(groups);
        });
    }

    /// <summary>A gateway without groups serves every route.</summary>
    private sealed class AllRoutes : IRouteFilter
    {
        public static readonly AllRoutes Instance = new();

        public bool Serves(RegistryRow row) => true;
    }
}

/// <summary>Fails start-up when <c>FuncGateway:Registry:Groups</c> holds a name that is not a valid group name.</summary>
internal sealed class RouteGroupsOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        RouteGroupFilter.ParseSetting(options.Registry.Groups, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
