using System.Collections.Frozen;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FuncGateway.Transforms;

/// <summary>Sets, appends or sets-if-missing a header of the upstream's response (never of a gateway-made error).</summary>
internal sealed class ResponseHeaderTransform(string name, HeaderOperation operation, ValueTemplate value) : GatewayResponseTransform
{
    public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
    {
        if (context.ProxyResponse is null)
        {
            return ValueTask.CompletedTask;
        }

        var headers = context.HttpContext.Response.Headers;
        var text = value.RenderHeaderValue(context.HttpContext, context.Feature);
        switch (operation)
        {
            case HeaderOperation.Set:
                headers.Remove(name);
                if (text is not null)
                {
                    headers[name] = text;
                }

                break;
            case HeaderOperation.Append when text is not null:
                headers.Append(name, text);
                break;
            case HeaderOperation.SetIfMissing when text is not null && !headers.ContainsKey(name):
                headers[name] = text;
                break;
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Removes a header of the upstream's response (<c>Server</c>, <c>X-Powered-By</c>, internal headers).</summary>
internal sealed class ResponseHeaderRemoveTransform(string name) : GatewayResponseTransform
{
    public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
    {
        if (context.ProxyResponse is not null)
        {
            context.HttpContext.Response.Headers.Remove(name);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Sets the <c>Content-Type</c> of an upstream response that may have a body (not 1xx, 204 or 304): always, or only
/// when the upstream's media type is one of <paramref name="ifMediaTypes"/> or (with <paramref name="ifMissing"/>) it sent none.
/// </summary>
internal sealed class ResponseContentTypeTransform(string value, string[] ifMediaTypes, bool ifMissing) : GatewayResponseTransform
{
    private readonly bool _always = ifMediaTypes.Length == 0 && !ifMissing;

    public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
    {
        if (context.ProxyResponse is not { } upstream || !StatusMayHaveBody((int)upstream.StatusCode))
        {
            return ValueTask.CompletedTask;
        }

        var response = context.HttpContext.Response;
        if (_always || Matches(response.ContentType))
        {
            response.ContentType = value;
        }

        return ValueTask.CompletedTask;
    }

    internal static bool StatusMayHaveBody(int status) => status >= 200 && status != StatusCodes.Status204NoContent && status != StatusCodes.Status304NotModified;

    private bool Matches(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return ifMissing;
        }

        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        mediaType = (semicolon < 0 ? mediaType : mediaType[..semicolon]).Trim(" \t");
        foreach (var candidate in ifMediaTypes)
        {
            if (mediaType.Equals(candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// Maps the upstream's status to another (one map per route, each upstream status looked up once, so mappings do not
/// chain). The body and headers stay the upstream's; the reason phrase becomes the new status's standard one.
/// </summary>
internal sealed class ResponseStatusTransform(FrozenDictionary<int, int> map) : GatewayResponseTransform
{
    public FrozenDictionary<int, int> Map => map;

    public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
    {
        if (context.ProxyResponse is { } upstream && map.TryGetValue((int)upstream.StatusCode, out var status))
        {
            context.HttpContext.Response.StatusCode = status;
            if (context.HttpContext.Features.Get<IHttpResponseFeature>() is { } feature)
            {
                feature.ReasonPhrase = null;
            }
        }

        return ValueTask.CompletedTask;
    }
}
