using k8s.Models;

namespace FuncGateway.Discovery.Kubernetes;

/// <summary>
/// Turns the EndpointSlices of a Service into instances, with the rule kube-proxy applies: endpoints that are
/// <c>ready</c> (a missing condition counts as ready); only when no endpoint of the Service is ready, the ones that are
/// <c>serving</c> and <c>terminating</c>, so connections drain to pods that still answer instead of failing at once.
/// </summary>
internal static class EndpointSliceInstances
{
    /// <summary>
    /// One instance per endpoint and matching port: <c>scheme://address:port</c> from the endpoint's first address
    /// (the only one the API gives a meaning to) and the slice's port named <paramref name="portName"/> (the unnamed
    /// port when null). Slices of address type FQDN, ports that are not TCP or have no number are skipped.
    /// </summary>
    public static IReadOnlyList<DiscoveredInstance> From(IEnumerable<V1EndpointSlice> slices, string? portName, string scheme)
    {
        ArgumentNullException.ThrowIfNull(slices);
        var ready = new List<DiscoveredInstance>();
        var servingTerminating = new List<DiscoveredInstance>();
        foreach (var slice in slices)
        {
            if (slice.AddressType is not ("IPv4" or "IPv6") || Port(slice, portName) is not { } port)
            {
                continue;
            }

            foreach (var endpoint in slice.Endpoints ?? [])
            {
                if (endpoint.Addresses is not { Count: > 0 } addresses || string.IsNullOrEmpty(addresses[0]))
                {
                    continue;
                }

                var conditions = endpoint.Conditions;
                var instance = new DiscoveredInstance(DiscoveredInstanceList.Url(scheme, addresses[0], port));
                if (conditions?.Ready != false)
                {
                    ready.Add(instance);
                }
                else if (conditions.Serving != false && conditions.Terminating == true)
                {
                    servingTerminating.Add(instance);
                }
            }
        }

        return DiscoveredInstanceList.Normalize(ready.Count > 0 ? ready : servingTerminating);
    }

    private static int? Port(V1EndpointSlice slice, string? portName)
    {
        foreach (var port in slice.Ports ?? [])
        {
            if (string.Equals(port.Name ?? string.Empty, portName ?? string.Empty, StringComparison.Ordinal)
                && port.Port is >= 1 and <= 65535
                && (port.Protocol is null || port.Protocol == "TCP"))
            {
                return port.Port;
            }
        }

        return null;
    }
}
