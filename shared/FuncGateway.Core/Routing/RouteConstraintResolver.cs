using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
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

        // RouteOptions maps "regex" to a stub that throws unless AddRouting() registered the real constraint.
        options.SetParameterPolicy<RegexInlineRouteConstraint>("regex");
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
