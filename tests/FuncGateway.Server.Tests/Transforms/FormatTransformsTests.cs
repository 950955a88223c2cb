using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Transforms;

/// <summary>
/// JSON ↔ XML and SOAP bridging through the real server, real Kestrel upstreams and Azurite: a JSON request reaching
/// an XML upstream as XML, XML answers reaching clients as JSON (or as XML when their Accept prefers it), a JSON
/// upstream serving XML clients, and a SOAP 1.1/1.2 service called with JSON whose faults become problem+json.
/// </summary>
[Collection("Azurite")]
public sealed class FormatTransformsTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Catalog = """<?xml version="1.0" encoding="utf-8"?><catalog xmlns:p="urn:p"><item id="1">a</item><item id="2">b</item><p:owner>x</p:owner></catalog>""";

    private TestUpstream _echo = null!;
    private TestUpstream _legacy = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");
        _legacy = await TestUpstream.StartAsync("legacy", app =>
        {
            app.MapGet("/catalog", (HttpContext context) =>
            {
                context.Response.ContentType = "application/xml";
                return context.Response.WriteAsync(Catalog);
            });
            app.MapGet("/json-order", (HttpContext context) =>
            {
                context.Response.Headers["X-Seen-Accept"] = context.Request.Headers.Accept.ToString();
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync("""{"id":7,"lines":[{"sku":"a"},{"sku":"b"}],"note":null}""");
            });
            app.MapGet("/json-repeated", (HttpContext context) =>
            {
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync("""{"id":7,"id":8}""");
            });
            app.MapGet("/not-xml", (HttpContext context) =>
            {
                context.Response.ContentType = "text/xml";
                return context.Response.WriteAsync("<unclosed>");
            });
            app.MapGet("/dtd", (HttpContext context) =>
            {
                context.Response.ContentType = "application/xml";
                return context.Response.WriteAsync("""<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>""");
            });
            app.MapPost("/soap", async (HttpContext context) =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var envelope = await reader.ReadToEndAsync();
                context.Response.Headers["X-Seen-Body"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(envelope));
                context.Response.Headers["X-Seen-Content-Type"] = context.Request.ContentType;
                context.Response.Headers["X-Seen-SOAPAction"] = context.Request.Headers["SOAPAction"].ToString();
                var soap12 = context.Request.ContentType!.StartsWith("application/soap+xml", StringComparison.Ordinal);
                var ns = soap12 ? "http://www.w3.org/2003/05/soap-envelope" : "http://schemas.xmlsoap.org/soap/envelope/";
                context.Response.ContentType = soap12 ? "application/soap+xml; charset=utf-8" : "text/xml; charset=utf-8";
                if (envelope.Contains("<Id>0</Id>", StringComparison.Ordinal))
                {
                    context.Response.StatusCode = 500;
                    await context.Response.WriteAsync(soap12
                        ? $"""<env:Envelope xmlns:env="{ns}"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value></env:Code><env:Reason><env:Text xml:lang="en">Order 0 does not exist</env:Text></env:Reason><env:Detail><secret>stack</secret></env:Detail></env:Fault></env:Body></env:Envelope>"""
                        : $"""<s:Envelope xmlns:s="{ns}"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>Order 0 does not exist</faultstring><detail><secret>stack</secret></detail></s:Fault></s:Body></s:Envelope>""");
                    return;
                }

                await context.Response.WriteAsync($"""<s:Envelope xmlns:s="{ns}"><s:Body><m:GetOrderResponse xmlns:m="urn:orders"><m:Order status="shipped"><m:Id>7</m:Id><m:Line>a</m:Line><m:Line>b</m:Line></m:Order></m:GetOrderResponse></s:Body></s:Envelope>""");
            });
        });
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await _gateway.UpsertUpstreamAsync("legacy", _legacy.BaseAddress);
        await _gateway.UpsertRouteAsync("to-xml", "/to-xml", _echo.BaseAddress.ToString(),
            ("Transforms", """[{"RequestBodyRemove":"/debug"},{"RequestJsonToXml":"order","Namespace":"urn:orders"}]"""));
        await _gateway.UpsertRouteAsync("catalog", "/catalog", "legacy", ("Transforms", """[{"ResponseXmlToJson":"negotiate"}]"""));
        await _gateway.UpsertRouteAsync("catalog-bare", "/bare/{**rest}", "legacy", ("StripPrefix", "/bare"),
            ("Transforms", """[{"ResponseXmlToJson":"always","OmitRoot":"true"}]"""));
        await _gateway.UpsertRouteAsync("json-order", "/json-order", "legacy", ("Transforms", """[{"ResponseBodyRemove":"/note"},{"ResponseJsonToXml":"order"}]"""));
        await _gateway.UpsertRouteAsync("json-repeated", "/json-repeated", "legacy", ("Transforms", """[{"ResponseJsonToXml":"order"}]"""));
        await _gateway.UpsertRouteAsync("to-xml-only", "/to-xml-only", _echo.BaseAddress.ToString(), ("Transforms", """[{"RequestJsonToXml":"order"}]"""));
        await _gateway.UpsertRouteAsync("soap11", "/orders/{id}", "legacy", ("UpstreamPath", "/soap"), ("Methods", "POST"),
            ("Transforms", """[{"RequestBodyTemplate":"{\"Id\": {{ route.id | json }}, \"Verbose\": {{ query.verbose | default: false | json }}}"},{"SoapOperation":"GetOrder","Namespace":"urn:orders","Version":"1.1","Action":"urn:orders/GetOrder"}]"""));
        await _gateway.UpsertRouteAsync("soap12", "/v12/orders", "legacy", ("UpstreamPath", "/soap"),
            ("Transforms", """[{"SoapOperation":"GetOrder","Namespace":"urn:orders","Version":"1.2","Action":"urn:orders/GetOrder"}]"""));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _legacy.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        return await _gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task A_json_request_reaches_an_xml_upstream_as_xml_and_an_xml_request_passes_untouched()
    {
        using var response = await _gateway.Client.PostAsync("/to-xml", new StringContent(
            """{"@id":"7","customer":"Ada","lines":[{"sku":"a"},{"sku":"b"}],"gift":true,"note":null,"debug":1}""", Encoding.UTF8, "application/json"));

        var echo = await Echo.ReadAsync(response);
        Assert.Equal("""<?xml version="1.0" encoding="utf-8"?><order id="7" xmlns="urn:orders"><customer>Ada</customer><lines><sku>a</sku></lines><lines><sku>b</sku></lines><gift>true</gift><note /></order>""", echo.Body);
        Assert.Equal(["application/xml; charset=utf-8"], echo.Header("Content-Type"));
        Assert.Equal(Encoding.UTF8.GetByteCount(echo.Body), echo.BodyLength);

        using var xml = await _gateway.Client.PostAsync("/to-xml", new StringContent("<order><debug>1</debug></order>", Encoding.UTF8, "application/xml"));
        Assert.Equal("<order><debug>1</debug></order>", (await Echo.ReadAsync(xml)).Body);
    }

    [Fact]
    public async Task An_xml_answer_reaches_clients_as_json_unless_their_accept_prefers_xml()
    {
        using var json = await GetAsync("/catalog", "application/json");
        Assert.Equal("application/json; charset=utf-8", json.Content.Headers.ContentType!.ToString());
        Assert.Equal("""{"catalog":{"@xmlns:p":"urn:p","item":[{"@id":"1","#text":"a"},{"@id":"2","#text":"b"}],"p:owner":"x"}}""", await json.Content.ReadAsStringAsync());
        Assert.Contains("Accept", json.Headers.Vary);

        using var wildcard = await GetAsync("/catalog");
        Assert.Equal("application/json", wildcard.Content.Headers.ContentType!.MediaType);

        using var xml = await GetAsync("/catalog", "application/xml, application/json;q=0.5");
        Assert.Equal("application/xml", xml.Content.Headers.ContentType!.MediaType);
        Assert.Equal(Catalog, await xml.Content.ReadAsStringAsync());

        using var bare = await GetAsync("/bare/catalog", "application/xml");
        Assert.Equal("""{"@xmlns:p":"urn:p","item":[{"@id":"1","#text":"a"},{"@id":"2","#text":"b"}],"p:owner":"x"}""", await bare.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Xml_that_is_broken_or_declares_a_dtd_is_refused_with_502_and_never_passed_on()
    {
        using var broken = await GetAsync("/bare/not-xml");
        await Problem.AssertAsync(broken, HttpStatusCode.BadGateway, "invalid_response_body");

        using var dtd = await GetAsync("/bare/dtd");
        var problem = await Problem.AssertAsync(dtd, HttpStatusCode.BadGateway, "invalid_response_body");
        Assert.DoesNotContain("root:", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_json_upstream_serves_xml_to_clients_that_prefer_it_and_json_to_everyone_else()
    {
        using var xml = await GetAsync("/json-order", "application/xml");
        Assert.Equal("application/xml; charset=utf-8", xml.Content.Headers.ContentType!.ToString());
        Assert.Equal("""<?xml version="1.0" encoding="utf-8"?><order><id>7</id><lines><sku>a</sku></lines><lines><sku>b</sku></lines></order>""", await xml.Content.ReadAsStringAsync());
        Assert.Equal("application/json", xml.Headers.GetValues("X-Seen-Accept").Single());

        using var json = await GetAsync("/json-order", "application/json, application/xml;q=0.9");
        Assert.Equal("""{"id":7,"lines":[{"sku":"a"},{"sku":"b"}]}""", await json.Content.ReadAsStringAsync());
        Assert.Contains("Accept", json.Headers.Vary);
    }

    [Fact]
    public async Task Json_that_repeats_a_member_is_not_converted_to_xml_either_way()
    {
        using var answer = await GetAsync("/json-repeated", "application/xml");
        await Problem.AssertAsync(answer, HttpStatusCode.BadGateway, "invalid_response_body");

        var before = _echo.RequestCount;
        using var request = await _gateway.Client.PostAsync("/to-xml-only", new StringContent("""{"id":7,"id":8}""", Encoding.UTF8, "application/json"));
        await Problem.AssertAsync(request, HttpStatusCode.BadRequest, "invalid_request_body");
        Assert.Equal(before, _echo.RequestCount);
    }

    [Fact]
    public async Task A_json_call_is_wrapped_in_a_soap_11_envelope_and_the_answer_unwrapped_to_json()
    {
        using var response = await _gateway.Client.PostAsync("/orders/7?verbose=true", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("""{"Order":{"@status":"shipped","Id":"7","Line":["a","b"]}}""", await response.Content.ReadAsStringAsync());

        var sent = Encoding.UTF8.GetString(Convert.FromBase64String(response.Headers.GetValues("X-Seen-Body").Single()));
        Assert.Equal("""<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetOrder xmlns="urn:orders"><Id>7</Id><Verbose>true</Verbose></GetOrder></soap:Body></soap:Envelope>""", sent);
        Assert.Equal("text/xml; charset=utf-8", response.Headers.GetValues("X-Seen-Content-Type").Single());
        Assert.Equal("\"urn:orders/GetOrder\"", response.Headers.GetValues("X-Seen-SOAPAction").Single());
    }

    [Fact]
    public async Task A_soap_fault_becomes_502_problem_json_with_the_fault_code_and_string_only()
    {
        using var fault11 = await _gateway.Client.PostAsync("/orders/0", null);
        var problem = await Problem.AssertAsync(fault11, HttpStatusCode.BadGateway, "upstream_soap_fault");
        Assert.Equal("s:Client", problem.GetProperty("faultCode").GetString());
        Assert.Equal("Order 0 does not exist", problem.GetProperty("faultString").GetString());
        Assert.DoesNotContain("stack", problem.ToString(), StringComparison.Ordinal);

        using var fault12 = await _gateway.Client.PostAsync("/v12/orders", new StringContent("""{"Id":0}""", Encoding.UTF8, "application/json"));
        problem = await Problem.AssertAsync(fault12, HttpStatusCode.BadGateway, "upstream_soap_fault");
        Assert.Equal("env:Sender", problem.GetProperty("faultCode").GetString());
        Assert.Equal("Order 0 does not exist", problem.GetProperty("faultString").GetString());
    }

    [Fact]
    public async Task A_soap_12_call_carries_the_action_in_the_content_type()
    {
        using var response = await _gateway.Client.PostAsync("/v12/orders", new StringContent("""{"Id":7}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/soap+xml; charset=utf-8; action=\"urn:orders/GetOrder\"", response.Headers.GetValues("X-Seen-Content-Type").Single());
        Assert.Equal("", response.Headers.GetValues("X-Seen-SOAPAction").Single());
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("7", (string?)json["Order"]!["Id"]);
    }
}
