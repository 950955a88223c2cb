using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Transforms;

/// <summary>
/// A response transform that rewrites the upstream's whole body in another format. It needs the body (the route
/// buffers it) and refuses, with 502 problem+json and a logged reason, a body it cannot read: never half-converted.
/// </summary>
internal abstract class ResponseFormatTransform(ILogger logger) : GatewayResponseTransform
{
    public override bool NeedsBody => true;

    public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
    {
        if (context.ProxyResponse is not { } upstream || !context.IsBodyBuffered || context.Body.IsEmpty || !Applies(context))
        {
            return ValueTask.CompletedTask;
        }

        if (!ResponseJsonBodyTransform.RefusedAsEncoded(context, upstream, logger))
        {
            try
            {
                Convert(context);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or System.Xml.XmlException)
            {
                // Text no converter can read or write: invalid UTF-8, a string escaping half a surrogate pair, a character
                // XML cannot hold. The client gets the gateway's 502, never a half-converted body.
                Fail(context, ProblemCodes.InvalidResponseBody, "the body cannot be converted: " + ex.GetType().Name);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Whether this response is one the transform converts (by its media type, the client's <c>Accept</c>).</summary>
    protected abstract bool Applies(GatewayResponseTransformContext context);

    /// <summary>Converts <see cref="GatewayResponseTransformContext.Body"/>, or calls <see cref="Fail"/>.</summary>
    protected abstract void Convert(GatewayResponseTransformContext context);

    /// <summary>Answers 502 <paramref name="code"/> instead of the upstream's response, and logs why.</summary>
    protected void Fail(GatewayResponseTransformContext context, string code, string reason, Action<Utf8JsonWriter>? extensions = null, string? title = null)
    {
        TransformsLog.ResponseTransformFailed(logger, context.Feature.Route.Definition.Id, context.HttpContext.Response.StatusCode, code, reason);
        ResponseJsonBodyTransform.Refuse(context, code, title ?? "The upstream's response could not be transformed.",
            "The route converts the upstream's response; this one could not be converted.", extensions);
    }

    protected static void SetBody(GatewayResponseTransformContext context, byte[] body, string contentType)
    {
        context.Body = body;
        context.HttpContext.Response.ContentType = contentType;
    }

    protected static void VaryOnAccept(HttpResponse response)
    {
        if (!response.Headers.Vary.Any(static v => v is not null && v.Contains("Accept", StringComparison.OrdinalIgnoreCase)))
        {
            response.Headers.Append("Vary", "Accept");
        }
    }
}

/// <summary>
/// XML → JSON: an upstream body whose media type is XML reaches the client as JSON (Json.NET's convention, the root
/// element kept or left out). With <c>negotiate</c>, a client whose <c>Accept</c> prefers XML gets the XML.
/// </summary>
internal sealed class ResponseXmlToJsonTransform(bool negotiate, bool omitRoot, ILogger logger) : ResponseFormatTransform(logger)
{
    protected override bool Applies(GatewayResponseTransformContext context)
    {
        var response = context.HttpContext.Response;
        if (negotiate)
        {
            VaryOnAccept(response);
            if (XmlConversion.PrefersXml(context.HttpContext.Request))
            {
                return false;
            }
        }

        return XmlConversion.IsXml(response.ContentType);
    }

    protected override void Convert(GatewayResponseTransformContext context)
    {
        if (XmlConversion.Load(context.Body, context.Body.Length, out var error) is not { } document)
        {
            Fail(context, ProblemCodes.InvalidResponseBody, "the body is not XML: " + error);
            return;
        }

        SetBody(context, Encoding.UTF8.GetBytes(XmlConversion.ToJson(document, omitRoot)), XmlConversion.JsonContentType);
    }
}

/// <summary>
/// JSON → XML for clients whose <c>Accept</c> prefers XML: an upstream JSON body (not problem+json) becomes an XML
/// document with root element <c>root</c>; every other client gets the JSON. The upstream is always asked for JSON.
/// </summary>
internal sealed class ResponseJsonToXmlTransform(string root, string? ns, ILogger logger) : ResponseFormatTransform(logger)
{
    protected override bool Applies(GatewayResponseTransformContext context)
    {
        var response = context.HttpContext.Response;
        VaryOnAccept(response);
        return XmlConversion.PrefersXml(context.HttpContext.Request) && XmlConversion.IsJson(response.ContentType)
            && !(response.ContentType ?? "").StartsWith(GatewayProblem.ContentType, StringComparison.OrdinalIgnoreCase);
    }

    protected override void Convert(GatewayResponseTransformContext context)
    {
        JsonNode? document;
        try
        {
            document = JsonBody.Parse(context.Body.Span, new() { MaxDepth = 64, AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            Fail(context, ProblemCodes.InvalidResponseBody, "the body is not JSON: " + ex.Message);
            return;
        }

        if (XmlConversion.ToXmlDocument(document, root, ns, out var error) is not { } xml)
        {
            Fail(context, ProblemCodes.ResponseTransformFailed, "the body cannot be written as XML: " + error);
            return;
        }

        SetBody(context, XmlConversion.ToBytes(xml), XmlConversion.XmlContentType);
    }
}

/// <summary>
/// The response side of <c>SoapOperation</c>: the SOAP envelope's body reaches the client as the JSON of the
/// operation response element's content; a SOAP fault becomes 502 <c>upstream_soap_fault</c> with
/// <c>faultCode</c> and <c>faultString</c>; a body that is not a SOAP envelope 502 <c>invalid_response_body</c>.
/// </summary>
internal sealed class SoapResponseTransform(ILogger logger) : ResponseFormatTransform(logger)
{
    private readonly ILogger _logger = logger;

    protected override bool Applies(GatewayResponseTransformContext context) => true;

    protected override void Convert(GatewayResponseTransformContext context)
    {
        var result = SoapBinding.Unwrap(context.Body, context.Body.Length);
        if (result.Invalid is { } reason)
        {
            Fail(context, ProblemCodes.InvalidResponseBody, reason);
            return;
        }

        if (result.Json is null)
        {
            TransformsLog.SoapFault(_logger, context.Feature.Route.Definition.Id, result.FaultCode ?? "");
            ResponseJsonBodyTransform.Refuse(context, ProblemCodes.UpstreamSoapFault, "The upstream answered with a SOAP fault.",
                result.FaultString ?? "The upstream's SOAP fault has no faultstring.", writer =>
                {
                    writer.WriteString("faultCode", result.FaultCode);
                    writer.WriteString("faultString", result.FaultString);
                });
            return;
        }

        SetBody(context, Encoding.UTF8.GetBytes(result.Json), XmlConversion.JsonContentType);
    }
}

/// <summary>Replaces a JSON response body with a Liquid template's output (JSON); a template that fails for a body answers 502 <c>response_transform_failed</c>.</summary>
internal sealed class ResponseBodyTemplateOperation(LiquidTemplate template, ILogger logger) : ResponseJsonOperation
{
    public override bool Apply(JsonNode? document, GatewayRequestFeature feature) => false;

    public override bool Apply(ref JsonNode? document, GatewayResponseTransformContext context)
    {
        var status = context.HttpContext.Response.StatusCode;
        var result = template.Render(document, context.HttpContext, context.Feature, status, out var error);
        if (error is not null)
        {
            TransformsLog.ResponseTransformFailed(logger, context.Feature.Route.Definition.Id, status, ProblemCodes.ResponseTransformFailed, error);
            ResponseJsonBodyTransform.Refuse(context, ProblemCodes.ResponseTransformFailed, "The upstream's response could not be transformed.",
                "The route's response template does not apply to this response.");
            return false;
        }

        document = result;
        return true;
    }
}

/// <summary>Asks the upstream for one media type (<c>Accept</c>), whatever the client accepts: the route converts the answer itself.</summary>
internal sealed class UpstreamAcceptTransform(string mediaType) : GatewayRequestTransform
{
    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        var headers = context.ProxyRequest.Headers;
        headers.Remove("Accept");
        headers.TryAddWithoutValidation("Accept", mediaType);
        return ValueTask.CompletedTask;
    }
}
