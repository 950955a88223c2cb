using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Admin;

/// <summary>
/// Admin endpoints a host adds under the admin prefix (<c>FuncGateway.Server</c>'s <c>/_gateway/metrics</c>). They sit
/// behind everything the built-in ones do: framing and public host checks, the admin key, the request id, GET and
/// HEAD only.
/// </summary>
public sealed class AdminExtensionEndpoints
{
    private readonly ConcurrentDictionary<string, RequestDelegate> _endpoints = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _taken;

    /// <param name="capabilityEndpoints">
    /// The paths the capabilities serve (<c>cache/purge</c>, <c>dashboard</c>, ...): they are answered before a host's
    /// endpoint, so a host may not take one of them, nor the first segment of one.
    /// </param>
    internal AdminExtensionEndpoints(IEnumerable<string> capabilityEndpoints)
    {
        _taken = new(AdminEndpoints.BuiltInNames, StringComparer.OrdinalIgnoreCase);
        foreach (var path in capabilityEndpoints)
        {
            _taken.Add(path);
            _taken.Add(path.Split('/')[0]);
        }
    }

    /// <summary>Serves <c>/_gateway/{name}</c> with <paramref name="handler"/>. A built-in or capability name cannot be taken.</summary>
    public void Map(string name, RequestDelegate handler)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(handler);
        if (_taken.Contains(name))
        {
            throw new ArgumentException($"'{name}' is a built-in admin endpoint.", nameof(name));
        }

        _endpoints[name] = handler;
    }

    internal bool TryGet(string name, out RequestDelegate handler) => _endpoints.TryGetValue(name, out handler!);

    internal IEnumerable<string> Names => _endpoints.Keys;
}
