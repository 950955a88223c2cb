using FuncGateway.Model;

namespace FuncGateway.RateLimiting;

/// <summary>The route property rate limiting owns.</summary>
public static class RateLimitProperties
{
    /// <summary>Names of the rate-limit policies (<c>FuncGateway:RateLimits:Policies</c>) the route applies, in order. Empty: not limited.</summary>
    public static RegistryProperty<IReadOnlyList<string>> RateLimit { get; } = RegistryProperties.Names(RegistryTable.Routes, "RateLimit");

    /// <summary>Every rate-limit property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [RateLimit];
}
