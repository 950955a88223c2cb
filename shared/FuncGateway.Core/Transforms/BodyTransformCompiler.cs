using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using FuncGateway.Model;

namespace FuncGateway.Transforms;

/// <summary>
/// Compiles a route's request body items (<c>RequestBodyMove</c>, <c>RequestBodyDefault</c>, <c>RequestBodyRemove</c>,
/// <c>RequestBodyTemplate</c>, <c>RequestJsonToXml</c>, <c>SoapOperation</c>) into one <see cref="RequestBodyTransform"/>,
/// and the format conversions of responses (<c>ResponseXmlToJson</c>, <c>ResponseJsonToXml</c>, the response side of
/// <c>SoapOperation</c>), checking their order: JSON operations before the one encoder of a request, XML → JSON before
/// and JSON → XML after a response's JSON operations. One per <see cref="TransformCompiler.Compile"/> call.
/// </summary>
internal sealed class BodyListCompiler(TransformScope scope, List<string> errors)
{
    private readonly List<RequestJsonOperation> _requestOperations = [];
    private RequestBodyEncoder? _encoder;
    private string? _encoderWhere;
    private int _requestIndex = -1;
    private int? _firstResponseJson;
    private (string Where, bool ToJson)? _responseFormat;

    /// <summary>Notes a response JSON operation (removal, envelope, template) at list index <paramref name="index"/>.</summary>
    public void ResponseJsonItem(int index, string where)
    {
        _firstResponseJson ??= index;
        if (_responseFormat is { ToJson: false } format)
        {
            errors.Add($"{where}: JSON body operations must come before {format.Where}, which turns the body into XML.");
        }
    }

    /// <summary>A Liquid template, parsed now; null (with the parser's reason) when it is not valid Liquid.</summary>
    public LiquidTemplate? Template(string text, string where)
    {
        var template = LiquidTemplate.Parse(text, scope.Time, out var error);
        if (template is null)
        {
            errors.Add($"{where}: the Liquid template does not parse: {error}");
        }

        return template;
    }

    public void Add(string kind, TransformDefinition item, string target, int index, string where, List<GatewayRequestTransform> request, List<GatewayResponseTransform> response)
    {
        switch (kind)
        {
            case TransformKinds.RequestBodyMove:
                if (RequestPointer(target, where, allowWildcard: false) is { } from
                    && (item["To"] is not { } toText || string.IsNullOrWhiteSpace(toText)
                        ? Error($"{where}: needs 'To' (a JSON Pointer).")
                        : RequestPointer(toText.Trim(), where, allowWildcard: false)) is { } to)
                {
                    AddRequest(new RequestBodyMoveOperation(from, to), where, request);
                }

                break;
            case TransformKinds.RequestBodyDefault:
                if (RequestPointer(target, where, allowWildcard: true) is { } at && JsonValue(item["Value"], where, out var value))
                {
                    AddRequest(new RequestBodyDefaultOperation(at, value), where, request);
                }

                break;
            case TransformKinds.RequestBodyRemove:
                if (RequestPointer(target, where, allowWildcard: true) is { } removed)
                {
                    AddRequest(new RequestBodyRemoveOperation(removed), where, request);
                }

                break;
            case TransformKinds.RequestBodyTemplate:
                if (Template(target, where) is { } template)
                {
                    AddRequest(new RequestBodyTemplateOperation(template), where, request);
                }

                break;
            case TransformKinds.RequestJsonToXml:
                if (XmlName(target.Trim(), "root element", where) && OptionalNamespace(item, where, out var ns))
                {
                    SetEncoder(new XmlRequestEncoder(target.Trim(), ns), where, request);
                }

                break;
            case TransformKinds.SoapOperation:
                if (Soap(item, target.Trim(), where) is { } binding)
                {
                    SetEncoder(new SoapRequestEncoder(binding), where, request);
                    AddResponseFormat(new SoapResponseTransform(scope.Logger), toJson: true, index, where, response);
                }

                break;
            case TransformKinds.ResponseXmlToJson:
                var mode = target.Trim();
                var omitRoot = item["OmitRoot"]?.Trim();
                if (mode is not ("always" or "negotiate"))
                {
                    errors.Add($"{where}: the value must be 'always' or 'negotiate' (JSON unless the client's Accept prefers XML).");
                }
                else if (omitRoot is not (null or "true" or "false"))
                {
                    errors.Add($"{where}: OmitRoot must be 'true' or 'false'.");
                }
                else
                {
                    AddResponseFormat(new ResponseXmlToJsonTransform(mode == "negotiate", omitRoot == "true", scope.Logger), toJson: true, index, where, response);
                }

                break;
            case TransformKinds.ResponseJsonToXml:
                if (XmlName(target.Trim(), "root element", where) && OptionalNamespace(item, where, out var responseNs))
                {
                    AddResponseFormat(new ResponseJsonToXmlTransform(target.Trim(), responseNs, scope.Logger), toJson: false, index, where, response);
                    request.Add(new UpstreamAcceptTransform("application/json"));
                }

                break;
        }
    }

    /// <summary>Puts the request body transform together, where its first item was.</summary>
    public void Finish(List<GatewayRequestTransform> request)
    {
        if (_requestIndex >= 0)
        {
            request[_requestIndex] = new RequestBodyTransform([.. _requestOperations], _encoder);
        }
    }

    private void AddRequest(RequestJsonOperation operation, string where, List<GatewayRequestTransform> request)
    {
        if (_encoderWhere is not null)
        {
            errors.Add($"{where}: JSON body operations must come before {_encoderWhere}, which writes the body in another format.");
            return;
        }

        Reserve(request);
        _requestOperations.Add(operation);
    }

    private void SetEncoder(RequestBodyEncoder encoder, string where, List<GatewayRequestTransform> request)
    {
        if (_encoderWhere is not null)
        {
            errors.Add($"{where}: a request body can be written in one format only; {_encoderWhere} already does.");
            return;
        }

        Reserve(request);
        _encoder = encoder;
        _encoderWhere = where;
    }

    /// <summary>Holds the place of the request body transform, at the first body item.</summary>
    private void Reserve(List<GatewayRequestTransform> request)
    {
        if (_requestIndex < 0)
        {
            _requestIndex = request.Count;
            request.Add(new RequestBodyTransform([], null));
        }
    }

    private void AddResponseFormat(ResponseFormatTransform transform, bool toJson, int index, string where, List<GatewayResponseTransform> response)
    {
        if (_responseFormat is { } other)
        {
            errors.Add($"{where}: a response body is converted once; {other.Where} already converts it.");
            return;
        }

        if (toJson && _firstResponseJson < index)
        {
            errors.Add($"{where}: must come before the JSON body operations (ResponseBodyRemove, ResponseEnvelope, ResponseBodyTemplate), which read the JSON it makes.");
            return;
        }

        _responseFormat = (where, toJson);
        response.Add(transform);
    }

    private JsonPointer? RequestPointer(string text, string where, bool allowWildcard)
    {
        if (JsonPointer.Parse(text.Trim(), out var error) is not { } pointer)
        {
            errors.Add($"{where}: {error}");
            return null;
        }

        if (!allowWildcard && pointer.HasWildcard)
        {
            errors.Add($"{where}: '{PrintableText.Of(text)}' may not use '*' (a move names one value).");
            return null;
        }

        if (pointer.EndsWithWildcard)
        {
            errors.Add($"{where}: '{PrintableText.Of(text)}' must end with a member name, not '*'.");
            return null;
        }

        return pointer;
    }

    private JsonPointer? Error(string message)
    {
        errors.Add(message);
        return null;
    }

    private bool JsonValue(string? text, string where, out JsonNode? value)
    {
        value = null;
        if (text is null)
        {
            errors.Add($"{where}: needs 'Value' (JSON text: \\\"EUR\\\", 10, true, {{}}).");
            return false;
        }

        try
        {
            // A repeated member would parse here and fail every request that inserts the value.
            value = JsonNode.Parse(text, documentOptions: new() { AllowDuplicateProperties = false });
            return true;
        }
        catch (JsonException)
        {
            errors.Add($"{where}: Value '{PrintableText.Of(text)}' is not JSON text; a string needs its quotes (\"Value\":\"\\\"EUR\\\"\").");
            return false;
        }
    }

    private bool XmlName(string name, string what, string where)
    {
        try
        {
            XmlConvert.VerifyNCName(name);
            return true;
        }
        catch (XmlException)
        {
            errors.Add($"{where}: '{PrintableText.Of(name)}' is not an XML element name for the {what} (no prefix, spaces or leading digit).");
            return false;
        }
    }

    private bool OptionalNamespace(TransformDefinition item, string where, out string? ns)
    {
        ns = item["Namespace"]?.Trim();
        if (ns is null || Uri.IsWellFormedUriString(ns, UriKind.Absolute))
        {
            return true;
        }

        errors.Add($"{where}: Namespace '{PrintableText.Of(ns)}' is not an absolute URI such as http://example.com/orders or urn:example:orders.");
        return false;
    }

    private SoapBinding? Soap(TransformDefinition item, string operation, string where)
    {
        var ok = XmlName(operation, "operation", where);
        if (!OptionalNamespace(item, where, out var ns) || ns is null)
        {
            if (ns is null)
            {
                errors.Add($"{where}: needs 'Namespace', the operation's XML namespace (an absolute URI).");
            }

            ok = false;
        }

        var version = item["Version"]?.Trim() switch
        {
            null or "1.1" => SoapVersion.Soap11,
            "1.2" => SoapVersion.Soap12,
            var other => Invalid($"{where}: Version '{PrintableText.Of(other)}' is not 1.1 or 1.2."),
        };
        var action = item["Action"]?.Trim();
        if (action is not null && (action.Length == 0 || !HeaderValueText.IsValid(action) || action.Contains('"', StringComparison.Ordinal)))
        {
            errors.Add($"{where}: Action must be visible ASCII without quotes (a URI such as http://example.com/orders/GetOrder).");
            ok = false;
        }

        return ok && version is { } v ? new SoapBinding(operation, ns!, v, action) : null;
    }

    private SoapVersion? Invalid(string message)
    {
        errors.Add(message);
        return null;
    }
}
