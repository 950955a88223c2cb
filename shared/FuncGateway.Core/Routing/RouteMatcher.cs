using FuncGateway.Model;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FuncGateway.Routing;

/// <summary>
/// Finds the route for a request. Built once per configuration snapshot into a trie of path segments, so a match
/// costs the depth of the path, not the number of routes.
/// </summary>
/// <remarks>
/// Precedence is depth-first: at each segment the literal child is tried first, then the parameter child, then
/// catch-all routes; a branch that yields no winner is backtracked. Routes that end at the same node are tried in
/// order of higher <see cref="RouteMatchSpec.Priority"/>, more constrained parameters, more conditions (hosts + headers + query), then
/// <see cref="RouteMatchSpec.RouteId"/> (ordinal). The first whose constraints, host, headers, query, capability
/// condition (<see cref="RouteMatchSpec.Condition"/>) and method all match wins (a route without methods takes every
/// method but TRACE, <see cref="RouteMethods"/>; a HEAD that no route of the list takes goes to the first that takes
/// GET). When the path is used up at a node, routes ending there come before routes whose optional last
/// parameter is missing, which come before catch-all routes with an empty rest.
/// </remarks>
internal sealed class RouteMatcher<TRoute>
    where TRoute : class
{
    // Paths deeper than this walk a heap array instead of stack memory.
    private const int MaxStackSegments = 32;

    private readonly Node _root;

    private RouteMatcher(Node root) => _root = root;

    /// <exception cref="ArgumentException">A route has a malformed host pattern, method or condition.</exception>
    public static RouteMatcher<TRoute> Build(IEnumerable<KeyValuePair<RouteMatchSpec, TRoute>> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        var root = new NodeBuilder();
        foreach (var (spec, route) in routes)
        {
            ArgumentNullException.ThrowIfNull(spec, nameof(routes));
            ArgumentNullException.ThrowIfNull(route, nameof(routes));
            var candidate = Candidate.Create(spec, route);
            var segments = spec.Template.Segments;
            var node = root;
            var isCatchAll = false;
            foreach (var segment in segments)
            {
                switch (segment.Kind)
                {
                    case RouteSegmentKind.Literal:
                        node = node.Literal(segment.Text);
                        break;
                    case RouteSegmentKind.Parameter:
                        node = node.Parameter();
                        break;
                    default:
                        // A catch-all is always the last segment: its routes hang off the node before it.
                        node.CatchAll.Add(candidate);
                        isCatchAll = true;
                        break;
                }
            }

            if (isCatchAll)
            {
                continue;
            }

            node.Exact.Add(candidate);
            if (segments.Count > 0 && segments[^1].IsOptional)
            {
                node.Omittable.Add(candidate);
            }
        }

        return new RouteMatcher<TRoute>(root.Build());
    }

    public RouteMatchResult<TRoute> Match(HttpRequest request) => Match(request, request?.Method!);

    /// <summary>
    /// Matches the request as if it used <paramref name="method"/>: which route would take a CORS preflight's
    /// announced method (<c>Access-Control-Request-Method</c>), for example.
    /// </summary>
    public RouteMatchResult<TRoute> Match(HttpRequest request, string method) => Match(request, method, request?.Path.Value ?? string.Empty);

    /// <summary>Matches the request as if its path were <paramref name="path"/> (a normalised reading of it, for example).</summary>
    public RouteMatchResult<TRoute> Match(HttpRequest request, string method, string path)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);

        // Split the path into segments once, as offsets into the path string; a trailing slash is ignored.
        var end = path.Length > 0 && path[^1] == '/' ? path.Length - 1 : path.Length;
        var count = path.AsSpan(0, end).Count('/');
        Span<PathSegment> segments = count <= MaxStackSegments
            ? stackalloc PathSegment[MaxStackSegments]
            : new PathSegment[count];
        segments = segments[..count];
        var start = 1;
        for (var i = 0; i < count; i++)
        {
            var slash = path.AsSpan(start, end - start).IndexOf('/');
            var length = slash < 0 ? end - start : slash;
            segments[i] = new PathSegment(start, length);
            start += length + 1;
        }

        var state = new MatchState(request, method, path, segments);
        if (TryMatch(_root, 0, ref state) && state is { Winner: { } winner, Values: { } values })
        {
            return RouteMatchResult<TRoute>.Matched(winner.Route, values);
        }

        return state.AllowedMethods is { } allowed
            ? RouteMatchResult<TRoute>.MethodNotAllowed(SortedDistinct(allowed))
            : RouteMatchResult<TRoute>.NotFound(state.FailedConditions);
    }

    private static bool TryMatch(Node node, int depth, ref MatchState state)
    {
        if (depth == state.Segments.Length)
        {
            return TryCandidates(node.Exact, ref state)
                || (node.Parameter is { } optional && TryCandidates(optional.Omittable, ref state))
                || TryCandidates(node.CatchAll, ref state);
        }

        var segment = state.Segments[depth];

        // Neither a literal nor a parameter matches an empty segment ("//"); a catch-all takes it as part of the rest.
        if (segment.Length > 0)
        {
            if (node.TryGetLiteral(state.Path.AsSpan(segment.Start, segment.Length), out var literal)
                && TryMatch(literal, depth + 1, ref state))
            {
                return true;
            }

            if (node.Parameter is { } parameter && TryMatch(parameter, depth + 1, ref state))
            {
                return true;
            }
        }

        return TryCandidates(node.CatchAll, ref state);
    }

    private static bool TryCandidates(Candidate[] candidates, ref MatchState state)
    {
        foreach (var candidate in candidates)
        {
            if (TryCandidate(candidate, ref state))
            {
                return true;
            }
        }

        // A HEAD that no route here takes itself goes to the one that takes GET (RFC 9110 §9.3.2), before the walk
        // moves on to other routes: HEAD goes where GET goes.
        if (state.HeadThroughGet is { } viaGet)
        {
            state.HeadThroughGet = null;
            state.Winner = viaGet;
            state.Values = CreateValues(viaGet, ref state);
            return true;
        }

        return false;
    }

    private static bool TryCandidate(Candidate candidate, ref MatchState state)
    {
        var request = state.Request;
        if (candidate.Hosts.Length > 0 && !AnyHostMatches(candidate.Hosts, request))
        {
            return false;
        }

        if (candidate.Headers.Length > 0 && !RequestConditionMatcher.HeadersMatch(request.Headers, candidate.Headers))
        {
            return false;
        }

        if (candidate.Query.Length > 0 && !RequestConditionMatcher.QueryMatches(request.Query, candidate.Query))
        {
            return false;
        }

        // Values are only needed for constraints and for the winner; most candidates never allocate them.
        RouteValueDictionary? values = null;
        if (candidate.HasConstraints)
        {
            values = CreateValues(candidate, ref state);
            if (!ConstraintsMatch(candidate, values, request.HttpContext))
            {
                return false;
            }
        }

        if (candidate.Condition is { } condition)
        {
            if (!condition.Matches(request, values))
            {
                (state.FailedConditions ??= []).Add(condition);
                return false;
            }
        }

        if (candidate.Methods.Length > 0 ? !MethodMatches(candidate.Methods, state.Method) : !RouteMethods.TakenWithoutList(state.Method))
        {
            if (candidate.TakesHeadThroughGet && HttpMethods.IsHead(state.Method))
            {
                // Taken unless a later route of this list takes HEAD itself.
                state.HeadThroughGet ??= candidate;
                return false;
            }

            (state.AllowedMethods ??= []).AddRange(candidate.Methods.Length > 0 ? candidate.AllowedMethods : RouteMethods.WithoutList);
            return false;
        }

        state.Winner = candidate;
        state.Values = values ?? CreateValues(candidate, ref state);
        return true;
    }

    private static bool AnyHostMatches(HostPattern[] hosts, HttpRequest request)
    {
        foreach (var host in hosts)
        {
            if (host.Matches(request))
            {
                return true;
            }
        }

        return false;
    }

    private static bool MethodMatches(string[] methods, string method)
    {
        foreach (var candidate in methods)
        {
            if (string.Equals(candidate, method, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static RouteValueDictionary CreateValues(Candidate candidate, ref MatchState state)
    {
        var values = new RouteValueDictionary();
        foreach (var binding in candidate.Bindings)
        {
            string? value = null;
            if (binding.SegmentIndex < state.Segments.Length)
            {
                var segment = state.Segments[binding.SegmentIndex];

                // A catch-all takes the rest of the path as sent, trailing slash included.
                value = binding.IsCatchAll
                    ? state.Path[segment.Start..]
                    : state.Path.Substring(segment.Start, segment.Length);
            }
            else if (binding.IsCatchAll)
            {
                value = string.Empty;
            }

            if (string.IsNullOrEmpty(value) && binding.Default is not null)
            {
                value = binding.Default;
            }

            if (value is not null)
            {
                values[binding.Name] = value;
            }
        }

        return values;
    }

    private static bool ConstraintsMatch(Candidate candidate, RouteValueDictionary values, HttpContext httpContext)
    {
        foreach (var binding in candidate.Bindings)
        {
            // A missing optional parameter has nothing to check, as with ASP.NET Core's OptionalRouteConstraint.
            if (binding.Constraints.Length == 0 || !values.ContainsKey(binding.Name))
            {
                continue;
            }

            foreach (var constraint in binding.Constraints)
            {
                if (!constraint.Match(httpContext, null, binding.Name, values, RouteDirection.IncomingRequest))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static string[] SortedDistinct(List<string> methods)
    {
        methods.Sort(StringComparer.Ordinal);
        var distinct = 0;
        for (var i = 0; i < methods.Count; i++)
        {
            if (distinct == 0 || !string.Equals(methods[distinct - 1], methods[i], StringComparison.Ordinal))
            {
                methods[distinct++] = methods[i];
            }
        }

        return [.. methods[..distinct]];
    }

    private readonly record struct PathSegment(int Start, int Length);

    private ref struct MatchState
    {
        public readonly HttpRequest Request;
        public readonly string Method;
        public readonly string Path;
        public readonly ReadOnlySpan<PathSegment> Segments;

        public MatchState(HttpRequest request, string method, string path, ReadOnlySpan<PathSegment> segments)
        {
            Request = request;
            Method = method;
            Path = path;
            Segments = segments;
        }

        public Candidate? Winner;

        public RouteValueDictionary? Values;

        /// <summary>Methods of candidates that failed only on the method; allocated on the first such failure.</summary>
        public List<string>? AllowedMethods;

        /// <summary>Conditions of candidates that failed on their <see cref="IRouteMatchCondition"/>; allocated on the first such failure.</summary>
        public List<IRouteMatchCondition>? FailedConditions;

        /// <summary>For a HEAD: the first candidate of the current list that takes it only through GET.</summary>
        public Candidate? HeadThroughGet;
    }

    private sealed class Binding(int segmentIndex, string name, bool isCatchAll, string? defaultValue, IRouteConstraint[] constraints)
    {
        public int SegmentIndex { get; } = segmentIndex;

        public string Name { get; } = name;

        public bool IsCatchAll { get; } = isCatchAll;

        public string? Default { get; } = defaultValue;

        public IRouteConstraint[] Constraints { get; } = constraints;
    }

    private sealed class Candidate
    {
        public static readonly Comparer<Candidate> Precedence = Comparer<Candidate>.Create(static (x, y) =>
        {
            var byPriority = y.Priority.CompareTo(x.Priority);
            if (byPriority != 0)
            {
                return byPriority;
            }

            // As in ASP.NET Core, a constrained parameter is more specific than a bare one: '/items/{id:int}'
            // is tried before '/items/{slug}' whatever their ids.
            var byConstraints = y.ConstrainedSegments.CompareTo(x.ConstrainedSegments);
            if (byConstraints != 0)
            {
                return byConstraints;
            }

            var byConditions = y.ConditionCount.CompareTo(x.ConditionCount);
            return byConditions != 0 ? byConditions : string.CompareOrdinal(x.RouteId, y.RouteId);
        });

        private Candidate(RouteMatchSpec spec, TRoute route, HostPattern[] hosts, string[] methods, Binding[] bindings)
        {
            Route = route;
            RouteId = spec.RouteId;
            Priority = spec.Priority;
            Hosts = hosts;
            Methods = methods;
            TakesHeadThroughGet = RouteMethods.TakesHeadThroughGet(methods);
            AllowedMethods = TakesHeadThroughGet ? [.. methods, HttpMethods.Head] : methods;
            Headers = [.. spec.Headers];
            Query = [.. spec.Query];
            Condition = spec.Condition;
            Bindings = bindings;
            ConditionCount = hosts.Length + Headers.Length + Query.Length + (Condition is null ? 0 : 1);
            HasConstraints = spec.Template.HasConstraints;
            foreach (var segment in spec.Template.Segments)
            {
                if (segment.Constraints.Count > 0)
                {
                    ConstrainedSegments++;
                }
            }
        }

        public TRoute Route { get; }

        public string RouteId { get; }

        public int Priority { get; }

        public int ConditionCount { get; }

        public HostPattern[] Hosts { get; }

        public string[] Methods { get; }

        /// <summary>Lists GET but not HEAD: takes HEAD too, unless a route of the same list takes it itself.</summary>
        public bool TakesHeadThroughGet { get; }

        /// <summary>What a 405 lists for this candidate: <see cref="Methods"/>, with HEAD when it comes with GET.</summary>
        public string[] AllowedMethods { get; }

        public RequestCondition[] Headers { get; }

        public RequestCondition[] Query { get; }

        public IRouteMatchCondition? Condition { get; }

        public Binding[] Bindings { get; }

        public bool HasConstraints { get; }

        public int ConstrainedSegments { get; }

        public static Candidate Create(RouteMatchSpec spec, TRoute route)
        {
            var hosts = new HostPattern[spec.Hosts.Count];
            for (var i = 0; i < hosts.Length; i++)
            {
                if (!HostPattern.TryParse(spec.Hosts[i], out var host, out var error))
                {
                    throw new ArgumentException($"Route '{spec.RouteId}': {error}", nameof(spec));
                }

                hosts[i] = host;
            }

            var methods = new string[spec.Methods.Count];
            for (var i = 0; i < methods.Length; i++)
            {
                var method = spec.Methods[i];
                if (string.IsNullOrWhiteSpace(method))
                {
                    throw new ArgumentException($"Route '{spec.RouteId}': a method is empty.", nameof(spec));
                }

                methods[i] = method.Trim().ToUpperInvariant();
            }

            foreach (var condition in spec.Headers.Concat(spec.Query))
            {
                if (string.IsNullOrWhiteSpace(condition?.Name))
                {
                    throw new ArgumentException($"Route '{spec.RouteId}': a header or query condition has no name.", nameof(spec));
                }
            }

            var bindings = new List<Binding>();
            var segments = spec.Template.Segments;
            for (var i = 0; i < segments.Count; i++)
            {
                var segment = segments[i];
                if (segment.Kind != RouteSegmentKind.Literal)
                {
                    bindings.Add(new Binding(
                        i,
                        segment.Text,
                        segment.Kind == RouteSegmentKind.CatchAll,
                        segment.Default,
                        [.. segment.Constraints.Select(static c => c.Constraint)]));
                }
            }

            return new Candidate(spec, route, hosts, [.. methods.Distinct(StringComparer.Ordinal)], [.. bindings]);
        }
    }

    private sealed class Node
    {
        private readonly FrozenDictionary<string, Node>.AlternateLookup<ReadOnlySpan<char>> _literals;
        private readonly bool _hasLiterals;

        public Node(
            FrozenDictionary<string, Node>? literals,
            Node? parameter,
            Candidate[] exact,
            Candidate[] omittable,
            Candidate[] catchAll)
        {
            if (literals is not null)
            {
                _literals = literals.GetAlternateLookup<ReadOnlySpan<char>>();
                _hasLiterals = true;
            }

            Parameter = parameter;
            Exact = exact;
            Omittable = omittable;
            CatchAll = catchAll;
        }

        public Node? Parameter { get; }

        /// <summary>Routes whose template ends at this node.</summary>
        public Candidate[] Exact { get; }

        /// <summary>The subset of <see cref="Exact"/> whose last segment (this node's parameter) may be missing.</summary>
        public Candidate[] Omittable { get; }

        /// <summary>Routes whose catch-all takes the rest of the path after this node.</summary>
        public Candidate[] CatchAll { get; }

        public bool TryGetLiteral(ReadOnlySpan<char> segment, [NotNullWhen(true)] out Node? child)
        {
            if (_hasLiterals)
            {
                return _literals.TryGetValue(segment, out child);
            }

            child = null;
            return false;
        }
    }

    private sealed class NodeBuilder
    {
        private Dictionary<string, NodeBuilder>? _literals;
        private NodeBuilder? _parameter;

        public List<Candidate> Exact { get; } = [];

        public List<Candidate> Omittable { get; } = [];

        public List<Candidate> CatchAll { get; } = [];

        public NodeBuilder Literal(string text)
        {
            _literals ??= new Dictionary<string, NodeBuilder>(StringComparer.OrdinalIgnoreCase);
            if (!_literals.TryGetValue(text, out var child))
            {
                child = new NodeBuilder();
                _literals.Add(text, child);
            }

            return child;
        }

        public NodeBuilder Parameter() => _parameter ??= new NodeBuilder();

        public Node Build() => new(
            _literals?.ToFrozenDictionary(static kv => kv.Key, static kv => kv.Value.Build(), StringComparer.OrdinalIgnoreCase),
            _parameter?.Build(),
            Sorted(Exact),
            Sorted(Omittable),
            Sorted(CatchAll));

        private static Candidate[] Sorted(List<Candidate> candidates) => [.. candidates.Order(Candidate.Precedence)];
    }
}
