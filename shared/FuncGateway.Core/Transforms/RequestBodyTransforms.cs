using System.Text.Json;
using System.Text.Json.Nodes;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Transforms;

/// <summary>One operation of a route's request body transforms, applied to the parsed JSON body in list order.</summary>
internal abstract class RequestJsonOperation
{
    /// <summary>Applies the operation (it may replace the document); false, with the reason, when it cannot apply to this body.</summary>
    public abstract bool Apply(ref JsonNode? document, HttpContext context, GatewayRequestFeature feature, out string? error);
}

/// <summary>Moves the value at one pointer to another (replacing what was there, creating missing objects); nothing when the source is absent.</summary>
internal sealed class RequestBodyMoveOperation(JsonPointer from, JsonPointer to) : RequestJsonOperation
{
    public override bool Apply(ref JsonNode? document, HttpContext context, GatewayRequestFeature feature, out string? error)
    {
        error = null;
        if (from.TryTake(document, out var value))
        {
            to.Set(document, () => value, onlyIfMissing: false);
        }

        return true;
    }
}

/// <summary>Sets a value where the pointer reaches nothing or <c>null</c> (in every element, for a <c>*</c> step).</summary>
internal sealed class RequestBodyDefaultOperation(JsonPointer at, JsonNode? value) : RequestJsonOperation
{
    public override bool Apply(ref JsonNode? document, HttpContext context, GatewayRequestFeature feature, out string? error)
    {
        error = null;
        at.Set(document, () => value?.DeepClone(), onlyIfMissing: true);
        return true;
    }
}

/// <summary>Removes every value the pointer reaches.</summary>
internal sealed class RequestBodyRemoveOperation(JsonPointer pointer) : RequestJsonOperation
{
    public override bool Apply(ref JsonNode? document, HttpContext context, GatewayRequestFeature feature, out string? error)
    {
        error = null;
        pointer.Remove(document);
        return true;
    }
}

/// <summary>Replaces the whole body with a Liquid template's output, which must be JSON.</summary>
internal sealed class RequestBodyTemplateOperation(LiquidTemplate template) : RequestJsonOperation
{
    public override bool Apply(ref JsonNode? document, HttpContext context, GatewayRequestFeature feature, out string? error)
    {
        var result = template.Render(document, context, feature, status: null, out error);
        if (error is not null)
        {
            return false;
        }

        document = result;
        return true;
    }
}

/// <summary>Writes the transformed JSON body in another format (XML, a SOAP envelope); last in a route's request body transforms.</summary>
internal abstract class RequestBodyEncoder
{
    /// <summary>The upstream request's <c>Content-Type</c>.</summary>
    public abstract string ContentType { get; }

    /// <summary>True when a request without a body gets one too (a SOAP envelope for an operation without parameters).</summary>
    public virtual bool EncodesEmptyBody => false;

    /// <summary>True when a body of this media type is already in the target format and passes untouched.</summary>
    public virtual bool PassesUntouched(string? contentType) => false;

    /// <summary>The encoded body; null with the reason when the document cannot be written in this format.</summary>
    public abstract byte[]? Encode(JsonNode? document, out string? error);

    /// <summary>Adds the format's own headers to each attempt's request.</summary>
    public virtual void AddHeaders(HttpRequestMessage request)
    {
    }
}

/// <summary>JSON → XML for an XML upstream, root element <c>root</c> (Json.NET's convention); an XML body passes untouched.</summary>
internal sealed class XmlRequestEncoder(string root, string? ns) : RequestBodyEncoder
{
    public override string ContentType => XmlConversion.XmlContentType;

    public override bool PassesUntouched(string? contentType) => XmlConversion.IsXml(contentType);

    public override byte[]? Encode(JsonNode? document, out string? error) =>
        XmlConversion.ToXmlDocument(document, root, ns, out error) is { } xml ? XmlConversion.ToBytes(xml) : null;
}

/// <summary>JSON → a SOAP envelope around the operation element, with <c>SOAPAction</c> (1.1) or the <c>action</c> parameter (1.2).</summary>
internal sealed class SoapRequestEncoder(SoapBinding binding) : RequestBodyEncoder
{
    public SoapBinding Binding => binding;

    public override string ContentType => binding.ContentType;

    public override bool EncodesEmptyBody => true;

    public override byte[]? Encode(JsonNode? document, out string? error) => binding.Wrap(document, out error);

    public override void AddHeaders(HttpRequestMessage request)
    {
        if (binding.SoapActionHeader is { } action)
        {
            request.Headers.Remove("SOAPAction");
            request.Headers.TryAddWithoutValidation("SOAPAction", action);
        }
    }
}

/// <summary>
/// A route's request body transforms, compiled once per snapshot: the JSON operations in list order, then at most
/// one encoder. The <see cref="RequestBodyStep"/> runs them once per request; every attempt sends the result.
/// </summary>
internal sealed class RequestBodyTransform(RequestJsonOperation[] operations, RequestBodyEncoder? encoder) : GatewayRequestTransform
{
    public IReadOnlyList<RequestJsonOperation> Operations => operations;

    public RequestBodyEncoder? Encoder => encoder;

    /// <summary>
    /// Gives each attempt the transformed body's media type and the format's headers (the step put the body itself
    /// in place of the client's: YARP sends the client's request body, and does not let a transform replace it).
    /// </summary>
    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        if (context.Feature.TransformedRequestBody is not { } transformed)
        {
            return ValueTask.CompletedTask;
        }

        var request = context.ProxyRequest;
        if (transformed.ContentType is { } type && request.Content is { } content)
        {
            content.Headers.Remove("Content-Type");
            content.Headers.TryAddWithoutValidation("Content-Type", type);
        }

        encoder?.AddHeaders(request);
        return ValueTask.CompletedTask;
    }

    /// <summary>The route's body transform, or null (a route's request transforms are a handful: the search is cheap).</summary>
    public static RequestBodyTransform? Of(CompiledRoute route)
    {
        foreach (var transform in route.Transforms.Request)
        {
            if (transform is RequestBodyTransform body)
            {
                return body;
            }
        }

        return null;
    }
}

/// <summary>
/// Runs a route's request body transforms once per request, after validation (PostMatch 245): the body is buffered
/// (or taken from validation's buffer) up to the route's limit, parsed as JSON, transformed and encoded. A body the
/// gateway cannot transform is refused with problem+json and never forwarded: 415 <c>request_body_encoded</c>
/// (compressed), 413 <c>request_too_large</c>, 400 <c>invalid_request_body</c> (not JSON), 400
/// <c>request_transform_failed</c> (a template whose output is not JSON, a body that cannot be XML).
/// </summary>
internal sealed class RequestBodyStep(IOptions<GatewayOptions> options, ILogger<RequestBodyStep> logger) : IGatewayStep
{
    // A repeated member ({"a":1,"a":2}) is refused as not JSON: the client, a validator and the upstream may each read
    // another one, and the parsed node would fail (a 500) when first read.
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    private readonly long _defaultLimit = Math.Min(RequestBodyReader.DefaultBufferedBodyBytes, options.Value.Forwarding.MaxRequestBodySizeBytes);

    public GatewayStepOrder Order => GatewayStepOrder.RequestBody;

    public string ActivityName => GatewayTelemetry.RequestBodyActivityName;

    public bool AppliesTo(CompiledRoute route) => RequestBodyTransform.Of(route) is not null;

    public async ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature)
    {
        if (RequestBodyTransform.Of(feature.Route) is not { } plan)
        {
            return true;
        }

        var request = context.Request;
        var routeId = feature.Route.Definition.Id;
        var hasBody = RequestBodyReader.HasBody(context);
        if (feature.IsTunnel || (!hasBody && plan.Encoder is not { EncodesEmptyBody: true }))
        {
            // A WebSocket upgrade carries no message to transform.
            return true;
        }

        JsonNode? document = null;
        if (hasBody)
        {
            if (ResponseJsonBodyTransform.IsEncoded(request.Headers.ContentEncoding.OfType<string>()))
            {
                TransformsLog.RequestBodyEncoded(logger, routeId, request.Headers.ContentEncoding.ToString());
                await GatewayProblem.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, ProblemCodes.RequestBodyEncoded,
                    "The request body is compressed and cannot be transformed.", "The route transforms request bodies; send them without Content-Encoding.");
                return false;
            }

            var limit = feature.MaxRequestBodySizeBytes ?? _defaultLimit;
            var (body, failure) = await RequestBodyReader.ReadAsync(context, feature, limit);
            switch (failure)
            {
                case RequestBodyFailure.TooLarge:
                    await GatewayProblem.RequestTooLargeAsync(context, limit);
                    return false;
                case RequestBodyFailure.TooSlow:
                    await GatewayProblem.RequestBodyTooSlowAsync(context);
                    return false;
                case RequestBodyFailure.Unreadable:
                    await GatewayProblem.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.BadRequest, "The request body could not be read from the client.");
                    return false;
            }

            // Forwarding reads the buffer, not the spent client stream, unless a transformed body replaces it.
            RequestBodyReader.ReplaceBody(request, body);
            if (plan.Encoder?.PassesUntouched(request.ContentType) == true)
            {
                return true;
            }

            if (!body.IsEmpty)
            {
                try
                {
                    document = JsonBody.Parse(body.Span, DocumentOptions);
                }
                catch (JsonException ex)
                {
                    TransformsLog.RequestBodyNotJson(logger, routeId, ex.Message);
                    await GatewayProblem.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequestBody,
                        "The request body is not valid JSON.", "The route transforms JSON request bodies.");
                    return false;
                }
            }
            else if (plan.Encoder is not { EncodesEmptyBody: true })
            {
                return true;
            }
        }

        byte[] transformed;
        try
        {
            foreach (var operation in plan.Operations)
            {
                if (!operation.Apply(ref document, context, feature, out var error))
                {
                    return await RefuseAsync(context, routeId, error!);
                }
            }

            if (plan.Encoder is { } encoder)
            {
                if (encoder.Encode(document, out var error) is not { } encoded)
                {
                    return await RefuseAsync(context, routeId, error!);
                }

                transformed = encoded;
            }
            else
            {
                transformed = JsonSerializer.SerializeToUtf8Bytes(document);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or JsonException)
        {
            // A string escaping half a surrogate pair ("\ud800") parses but cannot be decoded or written again.
            return await RefuseAsync(context, routeId, "a string of the body holds an unpaired surrogate escape");
        }

        feature.TransformedRequestBody = (transformed, plan.Encoder?.ContentType);
        RequestBodyReader.ReplaceBody(request, transformed);
        if (!hasBody)
        {
            // A body the client did not send (a SOAP envelope): the forwarder sends one only when the request has one.
            context.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection());
        }

        return true;
    }

    private sealed class BodyDetection : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody => true;
    }

    private async ValueTask<bool> RefuseAsync(HttpContext context, string routeId, string reason)
    {
        TransformsLog.RequestTransformFailed(logger, routeId, reason);
        await GatewayProblem.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.RequestTransformFailed,
            "The request body could not be transformed for the upstream.", "The route's body transforms do not apply to this body.");
        return false;
    }
}
