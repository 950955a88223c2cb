using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Constraints;
using Microsoft.Extensions.Options;

namespace FuncGateway.Routing;

/// <summary>
/// Resolves ASP.NET Core inline route constraints (<c>int</c>, <c>min(1)</c>, <c>regex(...)</c>) once, when a
/// template is parsed, so that a bad constraint rejects the route instead of failing requests.
/// </summary>
internal static class RouteConstraintResolver
{
    private static readonly RouteOptions ConstraintOptions = CreateOptions();

    // Immutable after construction; the resolver only reads its constraint map.
    private static readonly DefaultInlineConstraintResolver Resolver =
        new(Options.Create(ConstraintOptions), EmptyServiceProvider.Instance);

    private static readonly FrozenSet<string> KnownNames =
        ConstraintOptions.ConstraintMap.Keys.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The built-in constraint names, sorted, for error messages.</summary>
    public static string KnownNamesText { get; } =
        string.Join(", ", ConstraintOptions.ConstraintMap.Keys.Order(StringComparer.Ordinal));

    public static bool TryResolve(
        string constraintText,
        [NotNullWhen(true)] out IRouteConstraint? constraint,
        [NotNullWhen(false)] out string? problem)
    {
        var name = ConstraintName(constraintText);
        try
        {
            constraint = Resolver.ResolveConstraint(constraintText);
            if (constraint is RegexRouteConstraint regex)
            {
                // The pattern is compiled lazily on first use; force it now so a bad pattern is a config error,
                // not an exception on every request.
                _ = regex.Constraint;
            }
        }
        catch (Exception ex) when (ex is RouteCreationException or ArgumentException or InvalidOperationException)
        {
            constraint = null;
            problem = $"is invalid: {FirstLine(Innermost(ex).Message).TrimEnd('.')}";
            return false;
        }

        if (constraint is null)
        {
            problem = KnownNames.Contains(name)
                ? "is malformed; check its arguments and parentheses, for example 'min(1)'"
                : $"is unknown; known constraints are {KnownNamesText}";
            return false;
        }

        problem = null;
        return true;
    }

    private static RouteOptions CreateOptions()
    {
        var options = new RouteOptions();

        // RouteOptions maps "regex" to a stub that throws unless AddRouting() registered the real constraint. Ours has
        // ASP.NET Core's matching with a short time limit (BoundedRegexRouteConstraint).
        options.SetParameterPolicy<BoundedRegexRouteConstraint>("regex");
        return options;
    }

    private static string ConstraintName(string constraintText)
    {
        var open = constraintText.IndexOf('(', StringComparison.Ordinal);
        return open < 0 ? constraintText : constraintText[..open];
    }

    private static Exception Innermost(Exception ex)
    {
        // RouteCreationException wraps TargetInvocationException wraps the constraint's own ArgumentException.
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }

    private static string FirstLine(string message)
    {
        var newLine = message.AsSpan().IndexOfAny('\r', '\n');
        return newLine < 0 ? message : message[..newLine];
    }

    /// <summary>The built-in constraints take no services; the resolver still requires a provider.</summary>
    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static readonly EmptyServiceProvider Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}

/// <summary>
/// The <c>regex(...)</c> constraint as ASP.NET Core matches it (case-insensitive, culture-invariant), with a time limit
/// of <see cref="MatchTimeout"/> instead of ASP.NET Core's 10 s: any client chooses the text a route's pattern runs on,
/// so a pattern that backtracks badly (<c>^(a+)+$</c>) let each request hold a core for 10 s and then answer
/// <c>500 internal_error</c>. A segment the pattern cannot decide in time does not match, as a segment that fails it.
/// </summary>
internal sealed class BoundedRegexRouteConstraint : RegexRouteConstraint, IRouteConstraint
{
    /// <summary>How long the pattern may run on one segment.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    public BoundedRegexRouteConstraint(string regexPattern)
        : base(new Regex(regexPattern, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, MatchTimeout))
    {
    }

    bool IRouteConstraint.Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection)
    {
        try
        {
            return Match(httpContext, route, routeKey, values, routeDirection);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
