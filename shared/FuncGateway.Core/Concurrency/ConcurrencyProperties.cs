using FuncGateway.Model;

namespace FuncGateway.Concurrency;

/// <summary>The route property the concurrency limit owns.</summary>
public static class ConcurrencyProperties
{
    /// <summary>The largest <see cref="MaxConcurrency"/> a route may set.</summary>
    public const int MaxLimit = 100_000;

    /// <summary>
    /// How many requests of the route may be in flight at once on one gateway instance (1–100000); one more gets 503
    /// <c>concurrency_limited</c> at once, never a queue. Null: no limit.
    /// </summary>
    public static RegistryProperty<int?> MaxConcurrency { get; } = RegistryProperties.WholeNumber(RegistryTable.Routes, "MaxConcurrency", 1, MaxLimit);

    /// <summary>Every concurrency property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [MaxConcurrency];
}
