using FuncGateway.Model;
using FuncGateway.Transforms;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Composition;

/// <summary>One part of a compiled composition: its upstream pool, path, timeout and the parts it waits for.</summary>
internal sealed class CompiledPart(string name, UpstreamPool pool, PartPath path, string method, TimeSpan? timeout, bool required, int[] dependsOn)
{
    public string Name { get; } = name;

    public UpstreamPool Pool { get; } = pool;

    public PartPath Path { get; } = path;

    public string Method { get; } = method;

    public bool Required { get; } = required;

    public int[] DependsOn { get; } = dependsOn;

    /// <summary>The part's own timeout, or the route's once attached.</summary>
    public TimeSpan Timeout { get; private set; } = timeout ?? TimeSpan.Zero;

    /// <summary>The route's sibling that sends to the part's pool with the part's timeout (set once, when the route is built).</summary>
    public CompiledRoute Route { get; private set; } = null!;

    public void Attach(CompiledRoute route)
    {
        if (Timeout == TimeSpan.Zero)
        {
            Timeout = route.Timeout;
        }

        Route = route.ForPool(Pool, Timeout);
    }
}

/// <summary>A route's <c>Composition</c>, compiled once per snapshot: its parts in dependency order and its template.</summary>
internal sealed class CompositionResponder(CompositionRunner? runner, CompiledPart[] parts, int[] order, LiquidTemplate? template) : IRouteResponder
{
    public string Property => "Composition";

    /// <summary>The parts in declaration order.</summary>
    public CompiledPart[] Parts { get; } = parts;

    /// <summary>Indexes into <see cref="Parts"/>, every part after those it depends on.</summary>
    public int[] Order { get; } = order;

    public LiquidTemplate? Template { get; } = template;

    public void Attach(CompiledRoute route)
    {
        foreach (var part in Parts)
        {
            part.Attach(route);
        }
    }

    public Task RespondAsync(HttpContext context, GatewayRequestFeature feature) =>
        (runner ?? throw new InvalidOperationException("This composition was compiled for validation only.")).RespondAsync(context, feature, this);
}
