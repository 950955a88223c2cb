namespace FuncGateway.Model;

/// <summary>Defaults of the registry format that several parts of the gateway share.</summary>
public static class RegistryConventions
{
    /// <summary>PartitionKey used when none is given.</summary>
    public const string DefaultGroup = "default";

    /// <summary>The load-balancing policy of a pool that names none.</summary>
    public const string DefaultLoadBalancing = "RoundRobin";
}
