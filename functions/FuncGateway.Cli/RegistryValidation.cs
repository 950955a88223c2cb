using FuncGateway.Model;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;

namespace FuncGateway.Cli;

/// <summary>
/// The gateway's own validator (<see cref="SnapshotBuilder"/>), configured as the gateway configures it (including
/// the upstream allowlist from <c>FuncGateway__Forwarding__AllowedUpstreams</c> when it is set), and the canonical
/// form of a row that comparisons use. The CLI has no validation rules of its own.
/// </summary>
internal static class RegistryValidation
{
    /// <summary>The gateway's default forwarding timeout; it only fills in routes without TimeoutSeconds.</summary>
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(100);

    // Immutable once built; the round-robin counters live in the pools of each snapshot, not in the policy.
    private static readonly LoadBalancingPolicyRegistry Policies = new([new RoundRobinPolicy()]);

    /// <summary>
    /// Validates a complete registry against <paramref name="allowedUpstreams"/>; <see cref="GatewaySnapshot.Rejected"/>
    /// lists every bad row with all its reasons.
    /// </summary>
    public static GatewaySnapshot Validate(RegistryContent content, UpstreamAllowlist allowedUpstreams) =>
        new SnapshotBuilder(RegistryFormat.Serializer, Policies, DefaultTimeout, RegistryFormat.OfflineCompilers, upstreamAllowlist: allowedUpstreams)
            .Build(content, version: 0, TimeProvider.System.GetUtcNow());

    /// <summary>
    /// The row as the gateway understands it, written back in the registry format (types normalized, whitespace
    /// trimmed, defaults left out), so two rows that mean the same compare equal. A row that does not parse is
    /// returned as it is.
    /// </summary>
    public static RegistryRow Canonical(RegistryRow row)
    {
        var errors = new List<string>();
        if (row.Table == RegistryTable.Routes)
        {
            return RegistryFormat.ParseRoute(row, errors) is { } route ? RegistryFormat.ToRow(route) : row;
        }

        return RegistryFormat.ParseUpstream(row, errors) is { } upstream ? RegistryFormat.ToRow(upstream) : row;
    }
}
