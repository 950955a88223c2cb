using System.Globalization;
using System.Text.Json.Nodes;
using Fluid;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Transforms;

/// <summary>
/// A Liquid template (Fluid) that maps a whole JSON document, parsed once when the route is compiled. It sees the
/// message's body and the request's context (see docs/transforms.md, "Liquid templates"); its output must be JSON.
/// Rendering is bounded (steps, output size, recursion), so no template can hold a request for long.
/// </summary>
internal sealed class LiquidTemplate
{
    /// <summary>The most statements a render may run; a template that needs more fails for that message.</summary>
    public const int MaxSteps = 100_000;

    /// <summary>The most characters a render may write.</summary>
    public const int MaxOutputChars = 4 * 1024 * 1024;

    // FluidParser and TemplateOptions are immutable once built and safe to share between threads.
    private static readonly FluidParser Parser = new();

    private static readonly TemplateOptions Options = new TemplateOptionsBuilder()
        .WithMaxSteps(MaxSteps)
        .WithMaxOutputSize(MaxOutputChars)
        .WithMaxRecursion(32)
        .WithCultureInfo(CultureInfo.InvariantCulture)
        .Build();

    private readonly IFluidTemplate _template;
    private readonly TimeProvider _time;

    private LiquidTemplate(IFluidTemplate template, TimeProvider time)
    {
        _template = template;
        _time = time;
    }

    /// <summary>The template, or null (with the parser's reason) when <paramref name="text"/> is not valid Liquid.</summary>
    public static LiquidTemplate? Parse(string text, TimeProvider time, out string? error)
    {
        if (!Parser.TryParse(text, out var template, out error))
        {
            return null;
        }

        return new LiquidTemplate(template, time);
    }

    /// <summary>
    /// Renders the template for one message and parses its output as JSON. Null, with the reason, when rendering
    /// failed or the output is not JSON.
    /// </summary>
    public JsonNode? Render(JsonNode? body, HttpContext context, GatewayRequestFeature feature, int? status, out string? error) =>
        Render(body, context, feature, status, null, out error);

    /// <summary>
    /// As <see cref="Render(JsonNode?, HttpContext, GatewayRequestFeature, int?, out string?)"/>, with further
    /// top-level variables (a composition's <c>parts</c>).
    /// </summary>
    public JsonNode? Render(JsonNode? body, HttpContext context, GatewayRequestFeature feature, int? status, IReadOnlyDictionary<string, object?>? values, out string? error)
    {
        var model = new TemplateContext(Options);
        foreach (var (name, value) in values ?? new Dictionary<string, object?>())
        {
            if (value is not null)
            {
                model.SetValue(name, value);
            }
        }

        if (body is not null)
        {
            model.SetValue("body", body);
        }

        model.SetValue("route", RouteValues(feature));
        model.SetValue("query", Query(context.Request.Query));
        if (User(feature.Identity) is { } user)
        {
            model.SetValue("user", user);
        }

        model.SetValue("requestId", GatewayProblem.TraceId(context));
        model.SetValue("routeId", feature.Route.Definition.Id);
        model.SetValue("method", context.Request.Method);
        model.SetValue("timestamp", _time.GetUtcNow().UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture));
        if (status is { } code)
        {
            model.SetValue("status", code);
        }

        string text;
        try
        {
            text = _template.Render(model, NullEncoder.Default);
        }
        catch (Exception ex) when (ex is InvalidOperationException or LiquidException or ArgumentException or FormatException or ArithmeticException)
        {
            // Fluid's limits (steps, output size, recursion) end the render with InvalidOperationException, a filter
            // that cannot apply to this message's values (divided_by: 0) with LiquidException.
            error = "the template could not be rendered: " + ex.Message;
            return null;
        }

        try
        {
            error = null;
            // A repeated member (a value written without "| json" can add one) is not JSON a client can read one way,
            // and would fail whatever reads the object later.
            return JsonNode.Parse(text, documentOptions: new() { MaxDepth = 64, AllowDuplicateProperties = false });
        }
        catch (System.Text.Json.JsonException ex)
        {
            error = "the template's output is not JSON: " + ex.Message;
            return null;
        }
    }

    private static Dictionary<string, object?> RouteValues(GatewayRequestFeature feature)
    {
        var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in feature.RouteValues)
        {
            values[name] = Convert.ToString(value, CultureInfo.InvariantCulture);
        }

        return values;
    }

    private static Dictionary<string, object?> Query(IQueryCollection query)
    {
        var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in query)
        {
            values[name] = value.Count == 1 ? value[0] : value.ToString();
        }

        return values;
    }

    private static Dictionary<string, object?>? User(GatewayIdentity? identity)
    {
        if (identity is null)
        {
            return null;
        }

        var claims = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var claim in identity.Principal.Claims)
        {
            claims.TryAdd(claim.Type, claim.Value);
        }

        return new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["id"] = identity.UserId,
            ["consumer"] = identity.ConsumerId,
            ["roles"] = identity.Roles,
            ["scopes"] = identity.Scopes,
            ["claims"] = claims,
        };
    }
}
