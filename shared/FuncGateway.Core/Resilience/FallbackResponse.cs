using System.Text;
using Microsoft.AspNetCore.Http;
using FuncGateway.Model;

namespace FuncGateway.Resilience;

/// <summary>A route's fallback response, validated, with its body encoded once.</summary>
internal sealed class FallbackResponse
{
    internal const string DefaultContentType = "text/plain; charset=utf-8";

    private static readonly HashSet<string> ForbiddenHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
    };

    private readonly KeyValuePair<string, string>[] _headers;
    private readonly byte[] _body;
    private readonly bool _hasBody;

    private FallbackResponse(int status, KeyValuePair<string, string>[] headers, string? body)
    {
        Status = status;
        _headers = headers;
        _hasBody = body is not null;
        _body = body is null ? [] : Encoding.UTF8.GetBytes(body);
    }

    public int Status { get; }

    /// <summary>Validates <paramref name="definition"/>; every problem goes to <paramref name="errors"/>.</summary>
    public static FallbackResponse? Create(FallbackDefinition? definition, List<string> errors)
    {
        if (definition is null)
        {
            return null;
        }

        var start = errors.Count;
        if (definition.Status is < 200 or > 599)
        {
            errors.Add($"Fallback status {definition.Status} is outside 200–599.");
        }

        var headers = new List<KeyValuePair<string, string>>();
        var hasContentType = false;
        foreach (var (name, value) in definition.Headers ?? new Dictionary<string, string>())
        {
            if (!HttpSyntax.IsToken(name))
            {
                errors.Add($"Fallback header name '{PrintableText.Of(name)}' is not a valid header name.");
            }
            else if (ForbiddenHeaders.Contains(name))
            {
                errors.Add($"Fallback header '{name}' is set by the gateway and may not be configured.");
            }

            if (value is null || value.Any(c => c is '\r' or '\n' or '\0'))
            {
                errors.Add($"Fallback header '{PrintableText.Of(name)}' needs a single-line value.");
            }

            hasContentType |= string.Equals(name, "Content-Type", StringComparison.OrdinalIgnoreCase);
            headers.Add(new(name, value ?? ""));
        }

        if (definition.Body is not null && !hasContentType)
        {
            headers.Add(new("Content-Type", DefaultContentType));
        }

        return errors.Count > start ? null : new FallbackResponse(definition.Status, [.. headers], definition.Body);
    }

    /// <summary>Writes the fallback; the response must not have started.</summary>
    public Task WriteAsync(HttpContext context)
    {
        var response = context.Response;
        response.Clear();
        response.StatusCode = Status;
        foreach (var (name, value) in _headers)
        {
            response.Headers.Append(name, value);
        }

        response.ContentLength = _body.Length;
        return !_hasBody || HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(_body, context.RequestAborted).AsTask();
    }
}
