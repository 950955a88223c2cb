using FuncGateway.Model;
using FuncGateway.Routing;
using FuncGateway.Transforms;

namespace FuncGateway.Composition;

/// <summary>
/// Compiles a route's <c>Composition</c> once per snapshot: each part's upstream resolved as a route's <c>Upstream</c>
/// is (pools, inline URLs sharing one pool, the upstream allowlist), its path checked against the route's parameters,
/// the template parsed. Without a runner (tools that only validate), the result cannot answer requests.
/// </summary>
internal sealed class CompositionCompiler(CompositionRunner? runner, TimeProvider time) : IRouteFeatureCompiler
{
    /// <summary>For <c>fgw validate</c>: every check, no services.</summary>
    public static readonly CompositionCompiler Offline = new(null, TimeProvider.System);

    public object? Compile(RouteDefinition route, List<string> errors) => Compile(route, SnapshotTables.Empty, errors);

    public object? Compile(RouteDefinition route, SnapshotTables tables, List<string> errors)
    {
        if (route.Get(CompositionProperties.Composition) is not { } definition)
        {
            return null;
        }

        var start = errors.Count;
        var order = CompositionFormat.Check("Composition", definition, errors);
        if (order is null)
        {
            return null;
        }

        var parameters = RouteTemplate.TryParse(route.Path, out var template, out _) ? template!.ParameterNames : [];
        var names = definition.Parts.Select(static p => p.Name).ToList();
        var parts = new CompiledPart[definition.Parts.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = definition.Parts[i];
            var where = $"Composition part '{part.Name}'";
            var partErrors = new List<string>();
            var pool = tables.Upstreams.Resolve(part.Upstream, partErrors);
            errors.AddRange(partErrors.Select(e => $"{where}: {e}"));
            var path = PartPath.Parse(part.Path, where, errors);
            foreach (var value in path?.RouteValuesUsed.Where(v => !parameters.Contains(v, StringComparer.OrdinalIgnoreCase)) ?? [])
            {
                errors.Add($"{where}: path uses '{{{PrintableText.Of(value)}}}', which is not a parameter of the route's Path.");
            }

            var dependsOn = (part.DependsOn ?? []).Select(d => names.FindIndex(n => string.Equals(n, d, StringComparison.OrdinalIgnoreCase))).ToArray();
            if (pool is not null && path is not null)
            {
                parts[i] = new CompiledPart(part.Name, pool, path, (part.Method ?? "GET").ToUpperInvariant(),
                    part.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null, part.Required ?? true, dependsOn);
            }
        }

        LiquidTemplate? liquid = null;
        if (definition.Template is { } text)
        {
            liquid = LiquidTemplate.Parse(text, time, out var error);
            if (liquid is null)
            {
                errors.Add($"Composition template is not valid Liquid: {error}");
            }
        }

        return errors.Count > start ? null : new CompositionResponder(runner, parts, order, liquid);
    }
}
