using FuncGateway.Backend;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the gateway signature verifier to an ASP.NET Core backend.</summary>
public static class GatewaySignatureExtensions
{
    /// <summary>
    /// Registers the verifier with keys and settings from <paramref name="section"/> (e.g.
    /// <c>configuration.GetSection("GatewaySignature")</c>): <c>Keys:&lt;id&gt;</c>, <c>MaxAgeSeconds</c>, <c>UnsignedPaths</c>.
    /// </summary>
    public static IServiceCollection AddGatewaySignatureVerification(this IServiceCollection services, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return services.AddGatewaySignatureVerification(options =>
        {
            foreach (var key in section.GetSection("Keys").GetChildren())
            {
                options.Keys[key.Key] = key.Value ?? "";
            }

            if (double.TryParse(section["MaxAgeSeconds"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var maxAge))
            {
                options.MaxAgeSeconds = maxAge;
            }

            foreach (var path in section.GetSection("UnsignedPaths").GetChildren())
            {
                if (!string.IsNullOrEmpty(path.Value))
                {
                    options.UnsignedPaths.Add(path.Value);
                }
            }
        });
    }

    /// <summary>Registers the verifier, configured in code.</summary>
    public static IServiceCollection AddGatewaySignatureVerification(this IServiceCollection services, Action<GatewaySignatureOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Configure(configure);
        services.AddSingleton(static sp => new GatewaySignatureVerifier(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<GatewaySignatureOptions>>(),
            sp.GetService<TimeProvider>()));
        return services;
    }

    /// <summary>Refuses every request without a valid gateway signature (except the configured unsigned paths).</summary>
    public static IApplicationBuilder UseGatewaySignatureVerification(this IApplicationBuilder app) =>
        app.UseMiddleware<GatewaySignatureMiddleware>();
}
