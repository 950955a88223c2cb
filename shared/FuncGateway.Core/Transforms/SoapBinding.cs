using System.Text.Json.Nodes;
using System.Xml;

namespace FuncGateway.Transforms;

/// <summary>The SOAP version of a route's <c>RequestSoap</c>.</summary>
internal enum SoapVersion
{
    /// <summary>SOAP 1.1: <c>text/xml</c> and a <c>SOAPAction</c> header.</summary>
    Soap11,

    /// <summary>SOAP 1.2: <c>application/soap+xml</c> with an <c>action</c> parameter.</summary>
    Soap12,
}

/// <summary>What came back in a SOAP response: the operation's result as JSON, a fault, or no SOAP envelope at all.</summary>
internal readonly record struct SoapResult(string? Json, string? FaultCode, string? FaultString, string? Invalid);

/// <summary>
/// Bridges one SOAP operation: a JSON request body wrapped in an envelope (the body's members as child elements of
/// the operation element, in the operation's namespace), and a SOAP response unwrapped to the JSON of the operation
/// response element's content (local names, no namespace declarations), or its fault. Built once per route.
/// </summary>
internal sealed class SoapBinding
{
    public const string Soap11Namespace = "http://schemas.xmlsoap.org/soap/envelope/";
    public const string Soap12Namespace = "http://www.w3.org/2003/05/soap-envelope";

    public SoapBinding(string operation, string ns, SoapVersion version, string? action)
    {
        Operation = operation;
        Namespace = ns;
        Version = version;
        Action = action;
        ContentType = version == SoapVersion.Soap11
            ? "text/xml; charset=utf-8"
            : action is null ? "application/soap+xml; charset=utf-8" : $"application/soap+xml; charset=utf-8; action=\"{action}\"";
        SoapActionHeader = version == SoapVersion.Soap11 ? $"\"{action}\"" : null;
    }

    public string Operation { get; }

    public string Namespace { get; }

    public SoapVersion Version { get; }

    public string? Action { get; }

    /// <summary>The request's <c>Content-Type</c>.</summary>
    public string ContentType { get; }

    /// <summary>The SOAP 1.1 <c>SOAPAction</c> header's value (quoted; <c>""</c> without an action); null for SOAP 1.2.</summary>
    public string? SoapActionHeader { get; }

    private string EnvelopeNamespace => Version == SoapVersion.Soap11 ? Soap11Namespace : Soap12Namespace;

    /// <summary>The envelope around <paramref name="body"/> (null or an empty body: an empty operation element); null with the reason when it cannot be built.</summary>
    public byte[]? Wrap(JsonNode? body, out string? error)
    {
        if (XmlConversion.ToXmlDocument(body, Operation, Namespace, out error) is not { DocumentElement: { } operation })
        {
            return null;
        }

        var document = new XmlDocument();
        var envelope = document.CreateElement("soap", "Envelope", EnvelopeNamespace);
        document.AppendChild(envelope);
        var soapBody = document.CreateElement("soap", "Body", EnvelopeNamespace);
        envelope.AppendChild(soapBody);
        soapBody.AppendChild(document.ImportNode(operation, deep: true));
        return XmlConversion.ToBytes(document);
    }

    /// <summary>Reads a SOAP response (1.1 or 1.2, whatever the route sends).</summary>
    public static SoapResult Unwrap(ReadOnlyMemory<byte> xml, long maxChars)
    {
        if (XmlConversion.Load(xml, maxChars, out var error) is not { DocumentElement: { } envelope })
        {
            return new(null, null, null, "the body is not XML: " + error);
        }

        var ns = envelope.NamespaceURI;
        if (envelope.LocalName != "Envelope" || ns is not (Soap11Namespace or Soap12Namespace))
        {
            return new(null, null, null, $"the body is not a SOAP envelope (its root is {envelope.Name}).");
        }

        var body = FirstElement(envelope, "Body", ns);
        if (body is null)
        {
            return new(null, null, null, "the SOAP envelope has no Body.");
        }

        var content = FirstElement(body, null, null);
        if (content is null)
        {
            return new("{}", null, null, null);
        }

        if (content.LocalName == "Fault" && content.NamespaceURI == ns)
        {
            return ns == Soap11Namespace
                ? new(null, Text(FirstElement(content, "faultcode", "")), Text(FirstElement(content, "faultstring", "")), null)
                : new(null, Text(FirstElement(FirstElement(content, "Code", ns), "Value", ns)), Text(FirstElement(FirstElement(content, "Reason", ns), "Text", ns)), null);
        }

        // The operation's result without the XML plumbing: local names, no namespace declarations.
        var plain = new XmlDocument();
        plain.AppendChild(LocalCopy(content, plain));
        return new(XmlConversion.ToJson(plain, omitRoot: true), null, null, null);
    }

    private static XmlElement? FirstElement(XmlNode? parent, string? localName, string? ns)
    {
        if (parent is null)
        {
            return null;
        }

        foreach (var child in parent.ChildNodes)
        {
            if (child is XmlElement element && (localName is null || (element.LocalName == localName && element.NamespaceURI == ns)))
            {
                return element;
            }
        }

        return null;
    }

    private static string? Text(XmlElement? element) => element?.InnerText.Trim();

    private static XmlElement LocalCopy(XmlElement source, XmlDocument target)
    {
        var copy = target.CreateElement(source.LocalName);
        foreach (XmlAttribute attribute in source.Attributes)
        {
            if (attribute.NamespaceURI != "http://www.w3.org/2000/xmlns/" && attribute.Prefix != "xmlns")
            {
                copy.SetAttribute(attribute.LocalName, attribute.Value);
            }
        }

        foreach (XmlNode child in source.ChildNodes)
        {
            switch (child)
            {
                case XmlElement element:
                    copy.AppendChild(LocalCopy(element, target));
                    break;
                case XmlText or XmlCDataSection or XmlSignificantWhitespace:
                    copy.AppendChild(target.CreateTextNode(child.Value));
                    break;
            }
        }

        return copy;
    }
}
