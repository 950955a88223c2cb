using System.Collections.Frozen;
using System.Collections.Immutable;
using FuncGateway.Routing;

using FuncGateway.Model;

namespace FuncGateway.Configuration;

/// <summary>
/// One complete, validated, immutable view of the registry with every per-route object built. Requests read the
/// current snapshot through one reference; a reload builds a new one and swaps it.
/// </summary>
public sealed class GatewaySnapshot
{
    internal GatewaySnapshot(
        long version,
        DateTimeOffset loadedAt,
        string fingerprint,
        ImmutableArray<CompiledRoute> routes,
        FrozenDictionary<string, UpstreamPool> upstreams,
        ImmutableArray<RejectedRow> rejected,
        ImmutableArray<RejectedRow> warnings = default)
    {
        Version = version;
        LoadedAt = loadedAt;
        Fingerprint = fingerprint;
        Routes = routes;
        Upstreams = upstreams;
        Rejected = rejected;
        Warnings = warnings.IsDefault ? [] : warnings;
        var enabled = new List<KeyValuePair<RouteMatchSpec, CompiledRoute>>(routes.Length);
        foreach (var route in routes)
        {
            if (route.Definition.Enabled)
            {
                enabled.Add(new(route.MatchSpec, route));
                foreach (var alternate in route.MatchSpec.Alternates)
                {
                    enabled.Add(new(alternate, route));
                }
            }
        }

        Matcher = RouteMatcher<CompiledRoute>.Build(enabled);
    }

    /// <summary>Increases by one with every snapshot this process builds.</summary>
    public long Version { get; }

    /// <summary>When the snapshot was built.</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>Hash over every row's keys and ETag; equal fingerprints mean nothing changed.</summary>
    public string Fingerprint { get; }

    /// <summary>Every valid route, enabled or not, in id order.</summary>
    public ImmutableArray<CompiledRoute> Routes { get; }

    /// <summary>Every valid upstream pool by name.</summary>
    public FrozenDictionary<string, UpstreamPool> Upstreams { get; }

    /// <summary>Rows that were refused, with every reason.</summary>
    public ImmutableArray<RejectedRow> Rejected { get; }

    /// <summary>
    /// Rows that are served but will not work everywhere, with the reason: on a Kestrel server, routes under the paths
    /// the Azure Functions host keeps for itself (<c>/admin</c>, <c>/runtime/webhooks</c>). Logged once, never rejected.
    /// </summary>
    public ImmutableArray<RejectedRow> Warnings { get; }

    internal RouteMatcher<CompiledRoute> Matcher { get; }
}
