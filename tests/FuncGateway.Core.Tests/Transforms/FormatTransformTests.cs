using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FuncGateway.Forwarding;
using FuncGateway.Model;
using FuncGateway.Transforms;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Transforms;

/// <summary>The JSON ↔ XML convention, Accept negotiation, safe XML reading, SOAP envelopes, and the response template.</summary>
public sealed class FormatTransformTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("*/*", false)]
    [InlineData("application/json", false)]
    [InlineData("application/xml", true)]
    [InlineData("text/xml", true)]
    [InlineData("application/atom+xml", true)]
    [InlineData("application/json, application/xml", false)]
    [InlineData("application/json;q=0.5, application/xml", true)]
    [InlineData("application/xml;q=0, */*", false)]
    public void Xml_is_chosen_only_when_the_client_ranks_it_above_json(string? accept, bool xml)
    {
        var context = new DefaultHttpContext();
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }

        Assert.Equal(xml, XmlConversion.PrefersXml(context.Request));
    }

    [Theory]
    [InlineData("""{"a":1,"b":[true,false],"@c":"x","d":{"#text":"t","@e":"f"}}""", """<?xml version="1.0" encoding="utf-8"?><r c="x"><a>1</a><b>true</b><b>false</b><d e="f">t</d></r>""")]
    [InlineData("""[1,2]""", """<?xml version="1.0" encoding="utf-8"?><r><item>1</item><item>2</item></r>""")]
    [InlineData("\"text\"", """<?xml version="1.0" encoding="utf-8"?><r>text</r>""")]
    [InlineData("null", """<?xml version="1.0" encoding="utf-8"?><r />""")]
    public void Json_becomes_xml_by_the_json_net_convention(string json, string xml)
    {
        var document = XmlConversion.ToXmlDocument(JsonNode.Parse(json), "r", null, out var error);
        Assert.Null(error);
        Assert.Equal(xml, Encoding.UTF8.GetString(XmlConversion.ToBytes(document!)));
    }

    [Fact]
    public void Member_names_that_are_no_xml_names_are_encoded_and_text_xml_cannot_carry_is_refused()
    {
        var encoded = XmlConversion.ToXmlDocument(JsonNode.Parse("""{"two words":1,"1st":2}"""), "r", null, out _);
        Assert.Equal("<r><two_x0020_words>1</two_x0020_words><_x0031_st>2</_x0031_st></r>", encoded!.OuterXml);

        Assert.Null(XmlConversion.ToXmlDocument(JsonNode.Parse("{\"a\":\"bell\\u0007\"}"), "r", null, out var error));
        Assert.Contains("a character XML cannot carry", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>""")]
    [InlineData("""<a><b></a>""")]
    [InlineData("""not xml""")]
    public void Xml_with_a_dtd_or_not_well_formed_is_not_read(string xml)
    {
        Assert.Null(XmlConversion.Load(Encoding.UTF8.GetBytes(xml), 10_000, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void Xml_over_the_size_limit_is_not_read()
    {
        Assert.Null(XmlConversion.Load(Encoding.UTF8.GetBytes("<a>" + new string('x', 200) + "</a>"), 100, out _));
    }

    [Fact]
    public void A_soap_11_envelope_carries_the_operation_in_its_namespace_and_the_quoted_action()
    {
        var binding = new SoapBinding("Add", "urn:calc", SoapVersion.Soap11, "urn:calc/Add");
        var envelope = Encoding.UTF8.GetString(binding.Wrap(JsonNode.Parse("""{"a":1,"b":2}"""), out _)!);
        Assert.Equal("""<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Add xmlns="urn:calc"><a>1</a><b>2</b></Add></soap:Body></soap:Envelope>""", envelope);
        Assert.Equal("text/xml; charset=utf-8", binding.ContentType);
        Assert.Equal("\"urn:calc/Add\"", binding.SoapActionHeader);

        var soap12 = new SoapBinding("Add", "urn:calc", SoapVersion.Soap12, null);
        Assert.Equal("application/soap+xml; charset=utf-8", soap12.ContentType);
        Assert.Null(soap12.SoapActionHeader);
        Assert.Contains("<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body><Add xmlns=\"urn:calc\" /></soap:Body>",
            Encoding.UTF8.GetString(soap12.Wrap(null, out _)!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><AddResponse xmlns="urn:calc"><AddResult>3</AddResult></AddResponse></s:Body></s:Envelope>""", """{"AddResult":"3"}""", null)]
    [InlineData("""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body /></s:Envelope>""", "{}", null)]
    [InlineData("""<Envelope><Body/></Envelope>""", null, "is not a SOAP envelope")]
    [InlineData("""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/></s:Envelope>""", null, "has no Body")]
    public void A_soap_answer_is_unwrapped_to_the_operation_result(string xml, string? json, string? invalid)
    {
        var result = SoapBinding.Unwrap(Encoding.UTF8.GetBytes(xml), 10_000);
        Assert.Equal(json, result.Json);
        if (invalid is null)
        {
            Assert.Null(result.Invalid);
        }
        else
        {
            Assert.Contains(invalid, result.Invalid, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_response_template_maps_the_body_with_the_status_and_a_failing_one_answers_502()
    {
        var snapshot = TransformFormatTests.Build(Route("r", "/a", "http://10.0.0.1",
            ("Transforms", """[{"ResponseBodyTemplate":"{\"status\": {{ status }}, \"names\": [{% for i in body.items %}{{ i.name | json }}{% unless forloop.last %},{% endunless %}{% endfor %}]}"}]""")));
        var route = Assert.Single(snapshot.Routes);
        Assert.True(route.Transforms.BuffersResponseBody);
        Assert.Contains(route.Transforms.Request, static t => t is WholePlainBodyTransform);

        var (ok, body) = await RespondAsync(route, """{"items":[{"name":"a"},{"name":"b"}]}""");
        Assert.Equal(200, ok.StatusCode);
        Assert.Equal("""{"status":200,"names":["a","b"]}""", body);

        var (refused, problem) = await RespondAsync(route, """{"items":[{"name":"a"}""");
        Assert.Equal(502, refused.StatusCode);
        Assert.Contains("invalid_response_body", problem, StringComparison.Ordinal);
    }

    private static async Task<(HttpResponse Response, string Body)> RespondAsync(CompiledRoute route, string upstreamBody)
    {
        var client = new DefaultHttpContext();
        client.Request.Method = "GET";
        client.Response.Body = new MemoryStream();
        using var upstream = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(upstreamBody, Encoding.UTF8, "application/json") };
        await new GatewayHttpTransformer(new GatewayRequestFeature(route, []), 1 << 20, NullLogger.Instance).TransformResponseAsync(client, upstream, CancellationToken.None);
        client.Response.Body.Position = 0;
        return (client.Response, await new StreamReader(client.Response.Body).ReadToEndAsync());
    }
}
