using FuncGateway.Model;

namespace FuncGateway.Transforms;

/// <summary>
/// Sets, appends or sets-if-missing a request header. <c>Set</c> replaces every value, and removes the header when
/// the value has no value for this request (so a client's own header of that name never passes for the gateway's);
/// it removes the client's look-alikes of the name too (<see cref="HeaderLookAlikes"/>).
/// </summary>
internal sealed class RequestHeaderTransform(string name, HeaderOperation operation, ValueTemplate value) : GatewayRequestTransform
{
    private readonly string _squashed = HeaderLookAlikes.Squash(name);

    public string Name => name;

    public HeaderOperation Operation => operation;

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        var text = value.RenderHeaderValue(context.HttpContext, context.Feature);
        var request = context.ProxyRequest;
        switch (operation)
        {
            case HeaderOperation.Set:
                RemoveHeader(context, name);
                HeaderLookAlikes.Remove(request, name, _squashed);
                ProxyHeaders.Add(request, name, text);
                break;
            case HeaderOperation.Append:
                ProxyHeaders.Add(request, name, text);
                break;
            case HeaderOperation.SetIfMissing when !ProxyHeaders.Contains(request, name):
                ProxyHeaders.Add(request, name, text);
                break;
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Removes a request header (also a client's), and its look-alikes (<see cref="HeaderLookAlikes"/>).</summary>
internal sealed class RequestHeaderRemoveTransform(string name) : GatewayRequestTransform
{
    private readonly string _squashed = HeaderLookAlikes.Squash(name);

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        RemoveHeader(context, name);
        HeaderLookAlikes.Remove(context.ProxyRequest, name, _squashed);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Moves every value of one request header to another name, replacing that header and its look-alikes
/// (<see cref="HeaderLookAlikes"/>); nothing when the first is absent.
/// </summary>
internal sealed class RequestHeaderRenameTransform(string from, string to) : GatewayRequestTransform
{
    private readonly string _squashedTo = HeaderLookAlikes.Squash(to);

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        var request = context.ProxyRequest;
        if (ProxyHeaders.Take(request, from) is not { } values)
        {
            return ValueTask.CompletedTask;
        }

        RemoveHeader(context, to);
        HeaderLookAlikes.Remove(request, to, _squashedTo);
        foreach (var value in values)
        {
            ProxyHeaders.Add(request, to, value);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Sets a query parameter (every occurrence replaced by one at the end), or removes it when the value has none.</summary>
internal sealed class QueryParameterSetTransform(string name, ValueTemplate value) : GatewayRequestTransform
{
    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        var text = value.Render(context.HttpContext, context.Feature);
        context.Query = text is null ? QueryStringEditor.Remove(context.Query, name) : QueryStringEditor.Set(context.Query, name, text);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Removes every occurrence of a query parameter.</summary>
internal sealed class QueryParameterRemoveTransform(string name) : GatewayRequestTransform
{
    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        context.Query = QueryStringEditor.Remove(context.Query, name);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Renames every occurrence of a query parameter, keeping its value bytes.</summary>
internal sealed class QueryParameterRenameTransform(string from, string to) : GatewayRequestTransform
{
    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        context.Query = QueryStringEditor.Rename(context.Query, from, to);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Sends the upstream another method when the client used <paramref name="from"/>; never on a tunnel (a WebSocket upgrade).</summary>
internal sealed class HttpMethodChangeTransform(string from, HttpMethod to) : GatewayRequestTransform
{
    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        if (!context.Feature.IsTunnel && string.Equals(context.HttpContext.Request.Method, from, StringComparison.OrdinalIgnoreCase))
        {
            context.ProxyRequest.Method = to;
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Header access on the upstream request, wherever the base copy put a header (request or content headers).</summary>
internal static class ProxyHeaders
{
    public static bool Contains(HttpRequestMessage request, string name) =>
        request.Headers.NonValidated.Contains(name) || (request.Content?.Headers.NonValidated.Contains(name) ?? false);

    /// <summary>Adds a value (nothing for null). A content header goes on the content, and is dropped when there is none.</summary>
    public static void Add(HttpRequestMessage request, string name, string? value)
    {
        if (value is not null && !request.Headers.TryAddWithoutValidation(name, value))
        {
            request.Content?.Headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>Removes a header and returns its values; null when it was absent.</summary>
    public static string[]? Take(HttpRequestMessage request, string name)
    {
        if (request.Headers.NonValidated.TryGetValues(name, out var values))
        {
            var taken = values.ToArray();
            request.Headers.Remove(name);
            return taken;
        }

        if (request.Content is { } content && content.Headers.NonValidated.TryGetValues(name, out values))
        {
            var taken = values.ToArray();
            content.Headers.Remove(name);
            return taken;
        }

        return null;
    }
}

/// <summary>
/// A client's other spellings of a header name (<c>X_Tenant</c>, <c>x.tenant</c> for <c>X-Tenant</c>), compared as the
/// gateway's own headers are (<see cref="UntrustedRequestHeaders"/>): case-insensitively, ignoring every character that
/// is not a letter or a digit. CGI, PHP and Django map them to the same variable as the name itself, so a header the
/// route sets or removes would otherwise reach such an upstream beside (or instead of) the gateway's value.
/// </summary>
internal static class HeaderLookAlikes
{
    /// <summary>The name's letters and digits, lower case: what <see cref="Remove"/> compares with.</summary>
    public static string Squash(string name)
    {
        var squashed = new System.Text.StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                squashed.Append(char.ToLowerInvariant(c));
            }
        }

        return squashed.ToString();
    }

    /// <summary>
    /// Removes every request header that squashes to <paramref name="squashed"/> without being <paramref name="name"/>
    /// (any case). One pass that usually stops at a header's first letter; nothing is allocated unless one is removed.
    /// </summary>
    public static void Remove(HttpRequestMessage request, string name, string squashed)
    {
        List<string>? lookAlikes = null;
        foreach (var (key, _) in request.Headers.NonValidated)
        {
            if (SquashesTo(key, squashed) && !key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                (lookAlikes ??= []).Add(key);
            }
        }

        if (lookAlikes is not null)
        {
            foreach (var key in lookAlikes)
            {
                request.Headers.Remove(key);
            }
        }
    }

    private static bool SquashesTo(string candidate, string squashed)
    {
        var matched = 0;
        foreach (var c in candidate)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                continue;
            }

            if (matched == squashed.Length || char.ToLowerInvariant(c) != squashed[matched])
            {
                return false;
            }

            matched++;
        }

        return matched == squashed.Length;
    }
}
