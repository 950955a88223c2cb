using System.Text;
using System.Text.Json.Nodes;
using System.Xml;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Newtonsoft.Json;

namespace FuncGateway.Transforms;

/// <summary>
/// JSON ↔ XML with one convention, Json.NET's <c>XmlNodeConverter</c> (<c>JsonConvert.SerializeXmlNode</c> /
/// <c>DeserializeXmlNode</c>): members are elements, <c>@name</c> members are attributes, <c>#text</c> is text beside
/// attributes, an array is the element repeated, <c>null</c> is an empty element, <c>@xmlns</c>/<c>@xmlns:p</c> are
/// namespace declarations and prefixed names (<c>p:line</c>) are kept. XML is read safely: no DTD, no external
/// entities or resolver, a size limit, comments and processing instructions dropped.
/// </summary>
internal static class XmlConversion
{
    public const string XmlContentType = "application/xml; charset=utf-8";
    public const string JsonContentType = "application/json; charset=utf-8";

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>A JSON document as an XML document whose root element is <paramref name="root"/>; null with the reason when it cannot be one.</summary>
    public static XmlDocument? ToXmlDocument(JsonNode? document, string root, string? ns, out string? error)
    {
        // The converter wants an object: an array becomes repeated <item> elements, a value the root's text.
        // The document is the message's own, parsed for this conversion: it is changed, not copied.
        var content = document switch
        {
            JsonObject obj => obj,
            JsonArray array => new JsonObject { ["item"] = array },
            null => [],
            _ => new JsonObject { ["#text"] = document },
        };
        if (ns is not null)
        {
            content["@xmlns"] = ns;
        }

        try
        {
            var xml = JsonConvert.DeserializeXmlNode(content.ToJsonString(), root, writeArrayAttribute: false, encodeSpecialCharacters: false);
            error = xml?.DocumentElement is { } element ? Verify(element) : "the document is empty.";
            return error is null ? xml : null;
        }
        catch (Exception ex) when (ex is JsonException or XmlException or ArgumentException or InvalidOperationException)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>
    /// Why the converted tree would not be well-formed XML (the converter does not check member names or characters),
    /// or null: it is written as text, so this is what keeps a member such as <c>"two words"</c> from breaking it.
    /// </summary>
    private static string? Verify(XmlElement element)
    {
        if (!IsName(element.Name))
        {
            return $"'{element.Name}' is not an XML element name.";
        }

        foreach (XmlAttribute attribute in element.Attributes)
        {
            if (!IsName(attribute.Name) || !IsText(attribute.Value))
            {
                return $"the attribute '{attribute.Name}' is not a valid XML attribute.";
            }
        }

        foreach (XmlNode child in element.ChildNodes)
        {
            var problem = child switch
            {
                XmlElement childElement => Verify(childElement),
                _ when child.Value is { } text && !IsText(text) => $"the text of '{element.Name}' holds a character XML cannot carry.",
                _ => null,
            };
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static bool IsName(string name) => Passes(XmlConvert.VerifyName, name);

    private static bool IsText(string text) => Passes(XmlConvert.VerifyXmlChars, text);

    /// <summary>XmlConvert's checks throw rather than answer.</summary>
    private static bool Passes(Func<string, string> verify, string value)
    {
        try
        {
            verify(value);
            return true;
        }
        catch (XmlException)
        {
            return false;
        }
    }

    /// <summary>The document's root element as UTF-8 bytes after an XML declaration.</summary>
    /// <remarks>
    /// Written as text: the converter puts namespaces in <c>xmlns</c> attributes rather than on the elements, which
    /// an <see cref="XmlWriter"/> refuses and the element's own markup states exactly.
    /// </remarks>
    public static byte[] ToBytes(XmlDocument document) =>
        Utf8.GetBytes("<?xml version=\"1.0\" encoding=\"utf-8\"?>" + document.DocumentElement?.OuterXml);

    /// <summary>Reads XML safely (no DTD, no resolver, at most <paramref name="maxChars"/> characters); null with the reason when it is not well-formed.</summary>
    public static XmlDocument? Load(ReadOnlyMemory<byte> xml, long maxChars, out string? error)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = maxChars,
            MaxCharactersFromEntities = 1024,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
        };
        var document = new XmlDocument { XmlResolver = null };
        try
        {
            using var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(xml, out var segment)
                ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
                : new MemoryStream(xml.ToArray(), writable: false);
            using var reader = XmlReader.Create(stream, settings);
            document.Load(reader);
            if (document.FirstChild is XmlDeclaration declaration)
            {
                document.RemoveChild(declaration);
            }

            error = null;
            return document;
        }
        catch (XmlException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>A node as JSON text, by the convention above; <paramref name="omitRoot"/> leaves out the node's own name.</summary>
    public static string ToJson(XmlNode node, bool omitRoot) => JsonConvert.SerializeXmlNode(node, Newtonsoft.Json.Formatting.None, omitRoot);

    /// <summary>True for <c>application/xml</c>, <c>text/xml</c> and <c>*/*+xml</c>.</summary>
    public static bool IsXml(string? contentType) => MediaType(contentType) is { } type
        && (type.Equals("application/xml", StringComparison.OrdinalIgnoreCase) || type.Equals("text/xml", StringComparison.OrdinalIgnoreCase)
            || type.EndsWith("+xml", StringComparison.OrdinalIgnoreCase));

    /// <summary>True for <c>application/json</c> and <c>*/*+json</c>.</summary>
    public static bool IsJson(string? contentType) => MediaType(contentType) is { } type
        && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// True when the client's <c>Accept</c> prefers XML: an XML media type's quality is above every JSON media
    /// type's (a missing type counts 0; <c>*/*</c> counts for neither, so a tie or a wildcard keeps JSON).
    /// </summary>
    public static bool PrefersXml(HttpRequest request)
    {
        var accept = request.Headers.Accept;
        if (accept.Count == 0 || !MediaTypeHeaderValue.TryParseList(accept, out var types))
        {
            return false;
        }

        double xml = 0, json = 0;
        foreach (var type in types)
        {
            var quality = type.Quality ?? 1;
            var name = type.MediaType.Value;
            if (IsXml(name))
            {
                xml = Math.Max(xml, quality);
            }
            else if (IsJson(name))
            {
                json = Math.Max(json, quality);
            }
        }

        return xml > json;
    }

    private static string? MediaType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
    }
}
