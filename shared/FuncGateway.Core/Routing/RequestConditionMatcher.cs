using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace FuncGateway.Routing;

/// <summary>Evaluates <see cref="RequestCondition"/>s against a request without allocating.</summary>
internal static class RequestConditionMatcher
{
    /// <summary>
    /// True when every condition holds for the request headers. Each comma-separated item of a header value is a
    /// value of its own (<c>Accept: a, b</c> has the values <c>a</c> and <c>b</c>).
    /// </summary>
    public static bool HeadersMatch(IHeaderDictionary headers, RequestCondition[] conditions)
    {
        foreach (var condition in conditions)
        {
            headers.TryGetValue(condition.Name, out var values);
            if (!Holds(condition, values, splitCommas: true))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when every condition holds for the query; each occurrence of a parameter is one value.</summary>
    public static bool QueryMatches(IQueryCollection query, RequestCondition[] conditions)
    {
        foreach (var condition in conditions)
        {
            query.TryGetValue(condition.Name, out var values);
            if (!Holds(condition, values, splitCommas: false))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Holds(RequestCondition condition, StringValues values, bool splitCommas)
    {
        // A present header or query parameter has at least one (possibly empty) value.
        var present = values.Count > 0;
        switch (condition.Mode)
        {
            case ConditionMode.Exists:
                return present;
            case ConditionMode.NotExists:
                return !present;
        }

        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i].AsSpan();
            if (!splitCommas)
            {
                if (AnyExpectedMatches(condition, value))
                {
                    return true;
                }

                continue;
            }

            while (true)
            {
                var comma = value.IndexOf(',');
                var item = comma < 0 ? value : value[..comma];
                if (AnyExpectedMatches(condition, item.Trim()))
                {
                    return true;
                }

                if (comma < 0)
                {
                    break;
                }

                value = value[(comma + 1)..];
            }
        }

        return false;
    }

    private static bool AnyExpectedMatches(RequestCondition condition, ReadOnlySpan<char> actual)
    {
        var comparison = condition.CaseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var expectedValues = condition.Values;
        for (var i = 0; i < expectedValues.Count; i++)
        {
            var expected = expectedValues[i].AsSpan();
            var matches = condition.Mode switch
            {
                ConditionMode.Exact => actual.Equals(expected, comparison),
                ConditionMode.Prefix => actual.StartsWith(expected, comparison),
                ConditionMode.Contains => actual.Contains(expected, comparison),
                _ => false,
            };
            if (matches)
            {
                return true;
            }
        }

        return false;
    }
}
