using FuncGateway.Backend;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Lets an ASP.NET Core upstream register itself in a FuncGateway pool (the <c>registration</c> discovery source).</summary>
public static class GatewayRegistrationExtensions
{
    /// <summary>
    /// Registers the upstream in <see cref="GatewayRegistrationOptions.Pool"/> through the gateway's admin API once
    /// the server listens, renews the lease every third of <see cref="GatewayRegistrationOptions.LeaseSeconds"/>, and
    /// deregisters on graceful shutdown. <c>GatewayUrl</c>, <c>AdminKey</c> and <c>Pool</c> are required.
    /// </summary>
    public static IServiceCollection AddGatewayRegistration(this IServiceCollection services, Action<GatewayRegistrationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<GatewayRegistrationOptions>()
            .Configure(configure)
            .Validate(static o => o.GatewayUrl is { IsAbsoluteUri: true }, "GatewayRegistrationOptions.GatewayUrl must be an absolute URL.")
            .Validate(static o => !string.IsNullOrEmpty(o.AdminKey), "GatewayRegistrationOptions.AdminKey is required.")
            .Validate(static o => !string.IsNullOrEmpty(o.Pool), "GatewayRegistrationOptions.Pool is required.")
            .Validate(static o => o.Weight is >= 1 and <= 1000, "GatewayRegistrationOptions.Weight must be 1–1000.")
            .Validate(static o => o.LeaseSeconds >= 5, "GatewayRegistrationOptions.LeaseSeconds must be at least 5.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<GatewayRegistrationService>();
        return services;
    }
}
