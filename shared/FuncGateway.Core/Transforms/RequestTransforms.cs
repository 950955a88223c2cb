using FuncGateway.Model;

namespace FuncGateway.Transforms;

/// <summary>
/// Sets, appends or sets-if-missing a request header. <c>Set</c> replaces every value, and removes the header when
/// the value has no value for this request (so a client's own header of that name never passes for the gateway's).
/// </summary>
internal sealed class RequestHeaderTransform(string name, HeaderOperation operation, ValueTemplate value) : GatewayRequestTransform
{
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

/// <summary>Removes a request header (also a client's).</summary>
internal sealed class RequestHeaderRemoveTransform(string name) : GatewayRequestTransform
{
    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        RemoveHeader(context, name);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Moves every value of one request header to another name, replacing that header; nothing when the first is absent.</summary>
internal sealed class RequestHeaderRenameTransform(string from, string to) : GatewayRequestTransform
{
    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        var request = context.ProxyRequest;
        if (ProxyHeaders.Take(request, from) is not { } values)
        {
            return ValueTask.CompletedTask;
        }

        RemoveHeader(context, to);
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
