using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using FuncGateway.Backend;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Transforms;

/// <summary>Where a template variable's value comes from, which decides where the variable may be used.</summary>
internal enum ValueSource
{
    /// <summary>Literal text: the operator's.</summary>
    Constant,

    /// <summary>Made by the gateway: request id, timestamp, route id, the (route-checked) method.</summary>
    Gateway,

    /// <summary>The authenticated caller: user id, consumer, a claim (verified, but the caller may choose the values).</summary>
    Caller,

    /// <summary>Whatever the client sent: a header, a query parameter, a path parameter.</summary>
    Client,
}

/// <summary>
/// A transform value with variables, parsed once when the route is compiled: literal text with <c>{RequestId}</c>,
/// <c>{Timestamp}</c>, <c>{RouteId}</c>, <c>{Method}</c>, <c>{UserId}</c>, <c>{ConsumerId}</c>, <c>{Claim:type}</c>,
/// <c>{Header:name}</c>, <c>{Query:name}</c>, <c>{Route:name}</c>; <c>{{</c> and <c>}}</c> are literal braces.
/// Rendering never fails: it yields null when a variable has no value (no caller, no such header).
/// </summary>
internal sealed class ValueTemplate
{
    private readonly Part[] _parts;
    private readonly TimeProvider _time;

    private readonly bool _escapeVariables;

    private ValueTemplate(Part[] parts, string? constant, ValueSource source, TimeProvider time, bool escapeVariables = false)
    {
        _parts = parts;
        Constant = constant;
        Source = source;
        _time = time;
        _escapeVariables = escapeVariables;
    }

    /// <summary>
    /// This template with every variable's value percent-encoded as a URI component (<c>;</c>, <c>,</c>, <c>=</c>,
    /// spaces and quotes included), its literal text as written: for a value whose structure the operator writes and a
    /// variable must not extend, such as <c>Set-Cookie</c>, where <c>; Domain=…</c> in a claim would add an attribute.
    /// </summary>
    public ValueTemplate EscapingVariables() => Constant is not null ? this : new(_parts, null, Source, _time, escapeVariables: true);

    private enum Variable
    {
        Literal,
        RequestId,
        Timestamp,
        RouteId,
        Method,
        UserId,
        ConsumerId,
        Claim,
        Header,
        Query,
        Route,
    }

    /// <summary>The value when the template has no variables; null otherwise.</summary>
    public string? Constant { get; }

    /// <summary>The least trusted source among the template's variables.</summary>
    public ValueSource Source { get; }

    /// <summary>
    /// Parses <paramref name="text"/>. <paramref name="routeParameters"/> (null: not checked) are the names
    /// <c>{Route:…}</c> may use. Problems go to <paramref name="errors"/> prefixed with <paramref name="where"/>.
    /// </summary>
    public static ValueTemplate? Parse(string text, string where, IReadOnlyCollection<string>? routeParameters, TimeProvider time, List<string> errors)
    {
        var start = errors.Count;
        var parts = new List<Part>();
        var literal = new StringBuilder();
        var source = ValueSource.Constant;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '}')
            {
                if (i + 1 < text.Length && text[i + 1] == '}')
                {
                    literal.Append('}');
                    i++;
                    continue;
                }

                errors.Add($"{where}: '}}' at position {i + 1} closes nothing (write '}}}}' for a literal brace).");
                break;
            }

            if (c != '{')
            {
                literal.Append(c);
                continue;
            }

            if (i + 1 < text.Length && text[i + 1] == '{')
            {
                literal.Append('{');
                i++;
                continue;
            }

            var close = text.IndexOf('}', i + 1);
            if (close < 0)
            {
                errors.Add($"{where}: '{{' at position {i + 1} is not closed (write '{{{{' for a literal brace).");
                break;
            }

            if (ParseVariable(text[(i + 1)..close], where, routeParameters, errors) is not { } variable)
            {
                i = close;
                continue;
            }

            if (literal.Length > 0)
            {
                parts.Add(new Part(Variable.Literal, literal.ToString()));
                literal.Clear();
            }

            parts.Add(variable);
            source = (ValueSource)Math.Max((int)source, (int)SourceOf(variable.Kind));
            i = close;
        }

        if (literal.Length > 0)
        {
            parts.Add(new Part(Variable.Literal, literal.ToString()));
        }

        if (errors.Count > start)
        {
            return null;
        }

        var constant = source == ValueSource.Constant ? string.Concat(parts.Select(static p => p.Argument)) : null;
        return new ValueTemplate([.. parts], constant, source, time);
    }

    /// <summary>The value for this request, or null when a variable has none.</summary>
    public string? Render(HttpContext context, GatewayRequestFeature feature)
    {
        if (Constant is not null)
        {
            return Constant;
        }

        if (_parts.Length == 1)
        {
            return Escape(_parts[0], Resolve(_parts[0], context, feature));
        }

        // Built on the stack: one string allocated per value, whatever the number of parts.
        var builder = new DefaultInterpolatedStringHandler(0, _parts.Length, CultureInfo.InvariantCulture, stackalloc char[256]);
        foreach (var part in _parts)
        {
            if (Escape(part, Resolve(part, context, feature)) is not { } value)
            {
                builder.Clear();
                return null;
            }

            builder.AppendLiteral(value);
        }

        return builder.ToStringAndClear();
    }

    /// <summary>The value made safe for a header field: see <see cref="HeaderValueText.Sanitize"/>.</summary>
    public string? RenderHeaderValue(HttpContext context, GatewayRequestFeature feature) =>
        Render(context, feature) is { } value ? HeaderValueText.Sanitize(value) : null;

    private string? Escape(Part part, string? value) =>
        _escapeVariables && part.Kind != Variable.Literal && value is not null ? Uri.EscapeDataString(value) : value;

    private string? Resolve(Part part, HttpContext context, GatewayRequestFeature feature)
    {
        switch (part.Kind)
        {
            case Variable.Literal:
                return part.Argument;
            case Variable.RequestId:
                return GatewayProblem.TraceId(context);
            case Variable.Timestamp:
                return _time.GetUtcNow().UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);
            case Variable.RouteId:
                return feature.Route.Definition.Id;
            case Variable.Method:
                return context.Request.Method;
            case Variable.UserId:
                return NullIfEmpty(feature.Identity?.UserId);
            case Variable.ConsumerId:
                return NullIfEmpty(feature.Identity?.ConsumerId);
            case Variable.Claim:
                return NullIfEmpty(feature.Identity?.Principal.FindFirst(part.Argument)?.Value);
            case Variable.Header:
                var header = context.Request.Headers[part.Argument];
                return header.Count == 0 ? null : header.Count == 1 ? header[0] : string.Join(", ", header.ToArray());
            case Variable.Query:
                var query = context.Request.Query[part.Argument];
                return query.Count == 0 ? null : query.ToString();
            case Variable.Route:
                return feature.RouteValues.TryGetValue(part.Argument, out var routeValue)
                    ? NullIfEmpty(Convert.ToString(routeValue, CultureInfo.InvariantCulture))
                    : null;
            default:
                return null;
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static ValueSource SourceOf(Variable variable) => variable switch
    {
        Variable.Literal => ValueSource.Constant,
        Variable.RequestId or Variable.Timestamp or Variable.RouteId or Variable.Method => ValueSource.Gateway,
        Variable.UserId or Variable.ConsumerId or Variable.Claim => ValueSource.Caller,
        _ => ValueSource.Client,
    };

    private static Part? ParseVariable(string body, string where, IReadOnlyCollection<string>? routeParameters, List<string> errors)
    {
        var colon = body.IndexOf(':');
        var name = colon < 0 ? body : body[..colon];
        var argument = colon < 0 ? null : body[(colon + 1)..];
        Variable? kind = name.ToUpperInvariant() switch
        {
            "REQUESTID" => Variable.RequestId,
            "TIMESTAMP" => Variable.Timestamp,
            "ROUTEID" => Variable.RouteId,
            "METHOD" => Variable.Method,
            "USERID" => Variable.UserId,
            "CONSUMERID" => Variable.ConsumerId,
            "CLAIM" => Variable.Claim,
            "HEADER" => Variable.Header,
            "QUERY" => Variable.Query,
            "ROUTE" => Variable.Route,
            _ => null,
        };
        var shown = PrintableText.Of(body);
        if (kind is null)
        {
            errors.Add($"{where}: unknown variable {{{shown}}}. Known: {{RequestId}}, {{Timestamp}}, {{RouteId}}, {{Method}}, {{UserId}}, {{ConsumerId}}, "
                + "{Claim:type}, {Header:name}, {Query:name}, {Route:name}.");
            return null;
        }

        var needsArgument = kind is Variable.Claim or Variable.Header or Variable.Query or Variable.Route;
        if (needsArgument != (argument is not null))
        {
            errors.Add(needsArgument
                ? $"{where}: {{{shown}}} needs a name after a colon, e.g. {{{name}:x}}."
                : $"{where}: {{{shown}}} takes no argument; write {{{name}}}.");
            return null;
        }

        if (argument is null)
        {
            return new Part(kind.Value, "");
        }

        argument = argument.Trim();
        if (argument.Length == 0)
        {
            errors.Add($"{where}: {{{shown}}} needs a name after the colon.");
            return null;
        }

        switch (kind)
        {
            case Variable.Header when !HttpSyntax.IsToken(argument):
                errors.Add($"{where}: {{{shown}}}: '{PrintableText.Of(argument)}' is not a valid header name.");
                return null;
            case Variable.Header when GatewayHeaders.IsIdentityNamespace(argument):
                errors.Add($"{where}: {{{shown}}} would read the client's own {PrintableText.Of(argument)} header, which the gateway never trusts; "
                    + "use {UserId}, {ConsumerId} or {Claim:type} for the authenticated caller.");
                return null;
            case Variable.Header when TransformRules.IsCredentialHeader(argument):
                errors.Add($"{where}: {{{shown}}} would copy a credential the gateway removes; it cannot be used in a value.");
                return null;
            case Variable.Query when TransformRules.IsCredentialQueryParameter(argument, []):
                errors.Add($"{where}: {{{shown}}} would copy a credential the gateway removes; it cannot be used in a value.");
                return null;
            case Variable.Route when routeParameters is not null && !routeParameters.Contains(argument, StringComparer.OrdinalIgnoreCase):
                errors.Add(routeParameters.Count == 0
                    ? $"{where}: {{{shown}}}: the route's Path has no parameters."
                    : $"{where}: {{{shown}}}: the route's Path has no parameter '{PrintableText.Of(argument)}' (it has {string.Join(", ", routeParameters)}).");
                return null;
        }

        return new Part(kind.Value, argument);
    }

    private readonly record struct Part(Variable Kind, string Argument);
}

/// <summary>What a rendered value may hold once it goes into a header field.</summary>
internal static class HeaderValueText
{
    private static readonly SearchValues<char> Allowed = HttpSyntax.FieldValueChars;

    /// <summary>True when the text may be a header value as written (checked on the operator's literal text).</summary>
    public static bool IsValid(ReadOnlySpan<char> value) => HttpSyntax.IsFieldValue(value);

    /// <summary>
    /// The value with every character outside visible ASCII, space and tab (CR, LF, NUL, other controls, non-ASCII)
    /// written as its UTF-8 bytes in <c>%XX</c> form, and leading and trailing whitespace removed: a value taken from
    /// client input can never end a header line, start another or carry bytes a server would refuse.
    /// </summary>
    public static string Sanitize(string value)
    {
        var trimmed = value.AsSpan().Trim(" \t");
        if (!trimmed.ContainsAnyExcept(Allowed))
        {
            return trimmed.Length == value.Length ? value : trimmed.ToString();
        }

        var builder = new StringBuilder(trimmed.Length + 16);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < trimmed.Length; i++)
        {
            var c = trimmed[i];
            if (Allowed.Contains(c))
            {
                builder.Append(c);
                continue;
            }

            // A surrogate pair is one code point; a lone surrogate becomes U+FFFD.
            Rune.DecodeFromUtf16(trimmed[i..], out var rune, out var consumed);
            i += consumed - 1;

            var length = rune.EncodeToUtf8(bytes);
            foreach (var b in bytes[..length])
            {
                builder.Append('%').Append("0123456789ABCDEF"[b >> 4]).Append("0123456789ABCDEF"[b & 0xF]);
            }
        }

        return builder.ToString();
    }
}
